"""What each Lambda function's code asks of AWS, read from the source with ``ast``.

The roles of :mod:`infra.policies` are written by hand; this module is the independent
reading of the code they are checked against (``tests/infra/test_function_policies.py``).

- **Which code a function runs.** A function starts at its handler (the Chalice event
  handler's body, or every route of the app for the API): the modules its body names, then
  every module those import, at the top or inside a function (a lazy import runs too). The
  jobs function also runs the job kinds the jobs wiring names (``KIND_MODULES``). This
  is module-grained past the handler: a function is taken to run all of a module it reaches,
  which can only widen what it is found to need, never hide a call.
- **boto3 calls.** A module that makes a client (``client("sqs")`` from
  :mod:`chalicelib.adapters.aws`, or ``boto3.client("s3")``) calls that service with every
  method it invokes whose name is one of the service's operations (botocore's own model),
  plus the transfer and presigning helpers (``download_file``, ``generate_presigned_url("op")``).
- **Secrets.** Reading a secret is ``ssm:GetParameter`` (decrypted: ``kms:Decrypt``): through
  Powertools' ``SSMProvider(...).get(...)``, or, before secrets came from the store, through
  the ``settings`` attributes that held them.
- **PynamoDB.** Operations by method: ``Model.get``/``refresh`` (GetItem), ``query``,
  ``batch_get``, ``batch_write``, ``save`` (PutItem), ``update(actions=...)``, ``delete``,
  ``condition_check``; tables: the model (or index) classes the module names outside type
  annotations.
- **Local-only code** (:data:`LOCAL_ONLY`) never runs in AWS and is left out, with the reason.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "chalicelib"

# Code that runs only against the local engines (moto, DynamoDB Local): module -> functions
# (None: the whole module). Its calls need no grant in AWS.
LOCAL_ONLY: dict[str, set[str] | None] = {
    # LOCAL_MAIL_EVENTS only: plays SES's delivery events onto the local topic.
    "chalicelib.adapters.ses_simulator": None,
    # AWS_ENDPOINT set only: creates moto's bucket; in AWS the stack owns the buckets.
    "chalicelib.adapters.storage": {"_ensure_local_bucket"},
    # The local stack's and the tests' table creation; in AWS the stack owns the tables.
    "chalicelib.models.registry": None,
}

# S3 operations whose IAM action has another name (the multipart upload is PutObject's).
S3_ACTIONS = {"HeadObject": "GetObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
              "CompleteMultipartUpload": "PutObject", "ListParts": "ListMultipartUploadParts"}
TRANSFER_METHODS = {"download_file": "GetObject", "download_fileobj": "GetObject", "upload_file": "PutObject",
                    "upload_fileobj": "PutObject"}
SECRET_SETTINGS = {"signing_secret", "stripe_secret_key", "stripe_webhook_secret"}
DYNAMODB_CLASS_METHODS = {"get": "GetItem", "query": "Query", "batch_get": "BatchGetItem",
                          "batch_write": "BatchWriteItem"}
DYNAMODB_ANY_METHODS = {"save": "PutItem", "delete": "DeleteItem", "refresh": "GetItem",
                        "condition_check": "ConditionCheckItem", "batch_get": "BatchGetItem",
                        "batch_write": "BatchWriteItem", "query": "Query", "count": "Query"}


@dataclass
class Needs:
    """What a function's code asks of AWS: IAM actions, and the DynamoDB tables it names."""

    actions: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)

    def add(self, other: "Needs") -> None:
        self.actions |= other.actions
        self.tables |= other.tables


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=1)
def _sources() -> dict[str, ast.Module]:
    paths = [*PACKAGE.rglob("*.py"), ROOT / "app.py"]
    return {_module_name(path): ast.parse(path.read_text(), str(path)) for path in paths}


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    is_package = module in _sources() and (PACKAGE / Path(*package[1:]) / "__init__.py").exists()
    package = package if is_package else package[:-1]
    package = package[:len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


def _known(name: str) -> str | None:
    """The module of ours ``name`` is, or is in (``chalicelib.x.y.func`` -> ``chalicelib.x.y``)."""
    while name and name not in _sources():
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, skip_functions: set[str] = frozenset()):
    """Every node under ``node``, without ``if TYPE_CHECKING:`` blocks, annotations, or the
    top-level functions named in ``skip_functions``."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.name in skip_functions:
                continue
            if isinstance(current, ast.arg) or (isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef))
                                                and child is current.returns):
                continue
            if isinstance(current, ast.AnnAssign) and child is current.annotation:
                continue
            stack.append(child)


def _skipped(module: str) -> set[str]:
    return LOCAL_ONLY.get(module) or set()


@lru_cache(maxsize=None)
def _imports(module: str) -> dict[str, str]:
    """Local name -> dotted target (``module`` or ``module.attribute``), every import of ``module``."""
    names: dict[str, str] = {}
    for node in _walk(_sources()[module], _skipped(module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.partition(".")[0]] = alias.name if alias.asname else \
                    alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names


@lru_cache(maxsize=None)
def module_edges(module: str) -> frozenset[str]:
    """The modules of ours that ``module`` imports (anywhere but under ``TYPE_CHECKING``)."""
    found = {_known(target) for target in _imports(module).values()}
    return frozenset(name for name in found if name and name != module and LOCAL_ONLY.get(name, set()) is not None)


def reached(entries: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = [entry for entry in entries if LOCAL_ONLY.get(entry, set()) is not None]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(module_edges(module) - seen)
    return seen


def handler_entries(module: str, function: str) -> set[str]:
    """The modules a handler's body names (through its module's imports) or imports itself."""
    tree = _sources()[module]
    body = next(node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name == function)
    imports = _imports(module)
    found = {module}
    for node in _walk(body):
        if isinstance(node, ast.Name) and node.id in imports:
            found.add(_known(imports[node.id]))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            found.update(_known(f"{base}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(_known(alias.name) for alias in node.names)
    return {name for name in found if name}


def kind_modules() -> set[str]:
    """The job kinds' modules, as the jobs wiring names them (``KIND_MODULES``)."""
    found = set()
    for node in _sources()["chalicelib.services.jobs.wiring"].body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "KIND_MODULES"
                                                for target in node.targets):
            found.update(item.value for item in ast.walk(node.value) if isinstance(item, ast.Constant))
    return found


@lru_cache(maxsize=None)
def _operations(service: str) -> dict[str, str]:
    """snake_case method -> OperationName, from botocore's model of ``service``."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


@lru_cache(maxsize=None)
def _iam_prefix(service: str) -> str:
    import botocore.session

    return botocore.session.get_session().get_service_model(service).signing_name


def _iam_action(service: str, operation: str) -> str:
    if service == "s3":
        operation = S3_ACTIONS.get(operation, operation)
    return f"{_iam_prefix(service)}:{operation}"


def _clients_made(tree: ast.AST, skip: set[str]) -> set[str]:
    services = set()
    for node in _walk(tree, skip):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name == "client" and isinstance(node.args[0].value, str):
                services.add(node.args[0].value)
    return services


def _aws_actions(tree: ast.AST, skip: set[str]) -> set[str]:
    actions = set()
    services = _clients_made(tree, skip)
    for node in _walk(tree, skip):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        for service in services:
            if method in _operations(service):
                actions.add(_iam_action(service, _operations(service)[method]))
            elif service == "s3" and method in TRANSFER_METHODS:
                actions.add(f"s3:{TRANSFER_METHODS[method]}")
            elif method == "generate_presigned_url" and node.args and isinstance(node.args[0], ast.Constant):
                actions.add(_iam_action(service, _operations(service)[node.args[0].value]))
        if method == "get" and "ssm" in services and _keyword(node, "decrypt"):
            actions |= {"ssm:GetParameter", "kms:Decrypt"}  # Powertools' SSMProvider(...).get(name, decrypt=True)
    return actions


def _keyword(call: ast.Call, name: str) -> bool:
    return any(keyword.arg == name for keyword in call.keywords)


@lru_cache(maxsize=1)
def _model_tables() -> dict[str, str]:
    """Model and index class name -> table name."""
    from pynamodb.indexes import Index

    from chalicelib.models.registry import MODELS

    tables = {}
    for model in MODELS:
        tables[model.__name__] = model.Meta.table_name
        for value in vars(model).values():
            if isinstance(value, Index):
                tables[type(value).__name__] = model.Meta.table_name
    return tables


def _dynamodb(module: str, tree: ast.AST, skip: set[str]) -> Needs:
    needs = Needs()
    imports = _imports(module)
    defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    models = _model_tables()

    def model_named(node: ast.AST) -> str | None:
        if isinstance(node, ast.Attribute):  # Model.index.query(...)
            node = node.value
        if isinstance(node, ast.Name) and node.id in models and (node.id in defined or node.id in imports):
            return node.id
        return None

    for node in _walk(tree, skip):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and model_named(node):
            needs.tables.add(models[node.id])
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, node.func.value
        if method in DYNAMODB_CLASS_METHODS and model_named(receiver):
            needs.actions.add(f"dynamodb:{DYNAMODB_CLASS_METHODS[method]}")
        elif method in DYNAMODB_ANY_METHODS and (method != "query" or _pynamodb_query(node)):
            needs.actions.add(f"dynamodb:{DYNAMODB_ANY_METHODS[method]}")
        elif method == "update" and _keyword(node, "actions"):
            needs.actions.add("dynamodb:UpdateItem")
        elif method == "get" and isinstance(receiver, ast.Name) and receiver.id in {"model", "transaction"}:
            needs.actions.add("dynamodb:GetItem")  # a helper over any model (records.get_record), TransactGet
        elif method == "scan":
            needs.actions.add("dynamodb:Scan")
    return needs


def _pynamodb_query(call: ast.Call) -> bool:
    """``x.query(hash_key, ...)``: PynamoDB's (not a string's or a search helper's with no key)."""
    return bool(call.args) or _keyword(call, "hash_key")


def _secrets(tree: ast.AST, skip: set[str]) -> set[str]:
    for node in _walk(tree, skip):
        if isinstance(node, ast.Attribute) and node.attr in SECRET_SETTINGS and getattr(node.value, "id", "") \
                == "settings":
            return {"ssm:GetParameter", "kms:Decrypt"}
    return set()


@lru_cache(maxsize=None)
def module_needs(module: str) -> Needs:
    tree, skip = _sources()[module], _skipped(module)
    needs = _dynamodb(module, tree, skip)
    needs.actions |= _aws_actions(tree, skip) | _secrets(tree, skip)
    return needs


def needs_of(entries: set[str]) -> Needs:
    needs = Needs()
    needs.modules = reached(entries)
    for module in needs.modules:
        needs.add(module_needs(module))
    return needs


def function_entries(handler_string: str | None) -> set[str]:
    """The entry modules of a Lambda function: its handler's (``None``: the API, all of ``app``)."""
    if handler_string is None:
        return {"app"}
    module, _, function = handler_string.rpartition(".")
    entries = handler_entries(module, function)
    if "chalicelib.services.jobs.framework" in entries:
        entries |= kind_modules()  # a chunk runs its job's kind, found by the names the wiring lists
    return entries
