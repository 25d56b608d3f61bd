import Foundation
import HTTPServer

/// Triton's statistics and model configuration extensions (docs/reference/serving.md 3.6 and 3.7).
extension Router {
    /// `GET /v2/models/stats`: every model served now (none while they load).
    func allStatistics() -> HTTPResponse {
        .json(200, statisticsBody(state.registry.models))
    }

    /// `GET /v2/models/{m}[/versions/{v}]/stats`.
    func statistics(of served: ServedModel) -> HTTPResponse {
        .json(200, statisticsBody([served]), logMetadata: ["model": served.name])
    }

    /// `GET /v2/models/{m}[/versions/{v}]/config`.
    func configuration(of served: ServedModel) -> HTTPResponse {
        .json(200, ModelConfigDocument.json(served, limits: limits), logMetadata: ["model": served.name])
    }

    /// `{"model_stats":[…]}`: each model's statistics, kept by name in the metrics registry (so they outlive a
    /// reload), with the version served now.
    private func statisticsBody(_ models: [ServedModel]) -> Data {
        let items = models.map { served in
            (metrics.statistics(of: served.name) ?? ModelStatistics()).json(name: served.name, version: served.version)
        }
        return Data(("{\"model_stats\":[" + items.joined(separator: ",") + "]}").utf8)
    }
}
