"""Offline, strict validation of KServe manifests (ServingRuntime, ClusterServingRuntime, InferenceService).

Plain Kubernetes schemas do not cover KServe's CRDs, and the CRD schemas themselves are not on PyPI. The `kserve`
package ships OpenAPI-generated model classes for the same Go types the CRDs are generated from
(kserve.models.V1alpha1ServingRuntime, V1beta1InferenceService, ...): each has `openapi_types` (attribute ->
type) and `attribute_map` (attribute -> JSON key), and its setters reject None for required attributes. This
walks a manifest through those classes: an unknown key, a value of the wrong type or a missing required key
fails. Where a KServe type embeds a Kubernetes one (V1Container, V1ObjectMeta, V1ResourceRequirements, ...),
that subtree is validated against kubernetes-validate's bundled strict JSON schema of the same Kubernetes
version (unknown fields fail there too).

Only kserve's models and configuration modules are imported (kserve is installed with --no-deps; its
__init__ would pull the whole model server): a stub `kserve` package points at the installed directory.

usage: python validate_kserve.py [--kubernetes-version 1.30.0] FILE...   exit 0 when every document passes
"""
import argparse
import importlib
import importlib.metadata
import importlib.util
import json
import re
import sys
import types

import importlib_resources
import jsonschema
import referencing
import yaml

KINDS = {  # (apiVersion, kind) -> kserve model class
    ("serving.kserve.io/v1alpha1", "ServingRuntime"): "V1alpha1ServingRuntime",
    ("serving.kserve.io/v1alpha1", "ClusterServingRuntime"): "V1alpha1ClusterServingRuntime",
    ("serving.kserve.io/v1beta1", "InferenceService"): "V1beta1InferenceService",
}
PRIMITIVES = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
}


def load_kserve_models():
    """kserve.models without kserve/__init__.py (which imports the model server and its dependencies)."""
    spec = importlib.util.find_spec("kserve")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("validate_kserve.py: the kserve package is not installed")
    stub = types.ModuleType("kserve")
    stub.__path__ = list(spec.submodule_search_locations)
    sys.modules["kserve"] = stub
    models = importlib.import_module("kserve.models")
    configuration = importlib.import_module("kserve.configuration")
    version = importlib.metadata.version("kserve")
    return models, configuration.Configuration, version


class Validator:
    def __init__(self, kubernetes_version):
        self.models, self.Configuration, self.kserve_version = load_kserve_models()
        base = f"kubernetes-json-schema/v{kubernetes_version}-local-strict/_definitions.json"
        ref = importlib_resources.files("kubernetes_validate").joinpath(base)
        with importlib_resources.as_file(ref) as path, open(path) as f:
            self.definitions = json.load(f)
        self.defs_id = self.definitions["$id"]
        self.registry = referencing.Resource.from_contents(self.definitions) @ referencing.Registry()
        self.normalized = {re.sub(r"[^a-z0-9]", "", name.lower()): name for name in self.definitions["$defs"]}
        self.required_cache = {}
        self.errors = []

    # --- Kubernetes types embedded in KServe types
    def kubernetes_definition(self, type_name):
        """The JSON schema definition for a kubernetes-client type name (V1Container, K8sIoApiAppsV1...)."""
        if type_name == "ResourceQuantity":
            return "io.k8s.apimachinery.pkg.api.resource.Quantity"
        if type_name.startswith("K8sIo"):
            key = "iok8s" + type_name[len("K8sIo"):].lower()
            return self.normalized.get(key)
        match = re.fullmatch(r"(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)", type_name)
        if not match:
            return None
        suffix = f".{match.group(1).lower()}.{match.group(2)}"
        candidates = [name for name in self.definitions["$defs"] if name.endswith(suffix)]
        for preferred in ("io.k8s.api.core.", "io.k8s.apimachinery.pkg.apis.meta.", "io.k8s.api."):
            narrowed = [c for c in candidates if c.startswith(preferred)]
            if len(narrowed) == 1:
                return narrowed[0]
        return candidates[0] if len(candidates) == 1 else None

    def check_kubernetes(self, value, type_name, path):
        definition = self.kubernetes_definition(type_name)
        if definition is None:
            self.errors.append(f"{path}: type {type_name} is neither a kserve model nor a known Kubernetes type")
            return
        schema = {"$ref": f"{self.defs_id}#/$defs/{definition}"}
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            self.errors.append(f"{path}{where}: {error.message} ({definition})")

    # --- KServe types
    def required_attributes(self, cls):
        """Attributes whose setter rejects None (the generator's client-side check for required fields)."""
        if cls not in self.required_cache:
            required = set()
            for attribute in cls.openapi_types:
                obj = cls.__new__(cls)
                obj.local_vars_configuration = self.Configuration()
                try:
                    setattr(obj, attribute, None)
                except ValueError:
                    required.add(attribute)
            self.required_cache[cls] = required
        return self.required_cache[cls]

    def check(self, value, type_name, path):
        if value is None:
            return  # null is accepted wherever a value is optional; required keys are checked by the parent
        if type_name == "object":
            return
        if type_name in PRIMITIVES:
            expected = PRIMITIVES[type_name]
            ok = isinstance(value, expected) and not (type_name != "bool" and isinstance(value, bool))
            if not ok:
                self.errors.append(f"{path}: expected {type_name}, found {type(value).__name__} {value!r}")
            return
        match = re.fullmatch(r"list\[(.+)\]", type_name)
        if match:
            if not isinstance(value, list):
                self.errors.append(f"{path}: expected a list, found {type(value).__name__}")
                return
            for index, item in enumerate(value):
                self.check(item, match.group(1), f"{path}[{index}]")
            return
        match = re.fullmatch(r"dict\(str, (.+)\)", type_name)
        if match:
            if not isinstance(value, dict):
                self.errors.append(f"{path}: expected a map, found {type(value).__name__}")
                return
            for key, item in value.items():
                if not isinstance(key, str):
                    self.errors.append(f"{path}: map key {key!r} is not a string")
                self.check(item, match.group(1), f"{path}.{key}")
            return
        cls = getattr(self.models, type_name, None)
        if cls is None:
            self.check_kubernetes(value, type_name, path)
            return
        if not isinstance(value, dict):
            self.errors.append(f"{path}: expected an object ({type_name}), found {type(value).__name__}")
            return
        by_key = {json_key: attribute for attribute, json_key in cls.attribute_map.items()}
        for key, item in value.items():
            attribute = by_key.get(key)
            if attribute is None:
                known = ", ".join(sorted(by_key))
                self.errors.append(f"{path}: unknown field '{key}' in {type_name} (known: {known})")
                continue
            self.check(item, cls.openapi_types[attribute], f"{path}.{key}")
        for attribute in self.required_attributes(cls):
            if value.get(cls.attribute_map[attribute]) is None:
                self.errors.append(f"{path}: missing required field '{cls.attribute_map[attribute]}' of {type_name}")

    def document(self, doc, where):
        if not isinstance(doc, dict):
            self.errors.append(f"{where}: not a mapping")
            return None
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key not in KINDS:
            self.errors.append(f"{where}: apiVersion/kind {key[0]}/{key[1]} is not one of "
                               + ", ".join(f"{a} {k}" for a, k in KINDS))
            return None
        self.check(doc, KINDS[key], where)
        return key[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", default="1.30.0")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    validator = Validator(args.kubernetes_version)
    print(f"kserve {validator.kserve_version} model classes, Kubernetes {args.kubernetes_version} strict schemas")
    failed = 0
    for filename in args.files:
        with open(filename) as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        for index, doc in enumerate(documents):
            validator.errors = []
            kind = validator.document(doc, f"{filename}#{index}")
            name = (doc.get("metadata") or {}).get("name") if isinstance(doc, dict) else None
            if validator.errors:
                failed += 1
                print(f"FAIL {filename}: {kind or '?'}/{name}")
                for error in validator.errors:
                    print(f"  {error}")
            else:
                print(f"ok   {filename}: {kind}/{name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
