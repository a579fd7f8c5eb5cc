"""The test suite's own rules: every test checks something, and no test is skipped.

A test *checks something* when its body (functions defined inside it count only where it calls them):

- has an ``assert`` statement or raises ``AssertionError``;
- calls ``pytest.raises``, ``pytest.warns``, ``pytest.deprecated_call`` or ``pytest.fail``;
- calls a function whose name begins with ``assert`` (``np.testing.assert_allclose``,
  ``mock.assert_called_once_with``); or
- calls a helper that checks something by this same rule. A helper is a function of the same file (module
  level, a method of one of its classes called as ``obj.name(...)``, or a function defined inside the test),
  or a function imported with ``from module import name`` from a module under ``tests/``.

Hypothesis tests (``@given``) count by their body like any other test. Fixtures do not count: a test whose
only check is in a fixture says nothing about what it tests.

*No test is skipped*: test files use no ``pytest.skip``, ``pytest.importorskip``, ``skip``/``skipif`` marks
or non-strict ``xfail``; a missing dependency is a failure that says how to install it. ``conftest.py``
prints the skip count of every run and fails a run that skipped anything.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# where `from name import ...` finds helper modules: the tests folder and pytest's `pythonpath`
IMPORT_ROOTS = (TESTS, TESTS / "golden")
CHECKING_PYTEST_CALLS = frozenset({"raises", "warns", "deprecated_call", "fail"})
SKIPPING_PYTEST_NAMES = frozenset({"skip", "skipif", "importorskip"})

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Module:
    """One parsed file: its functions, the methods of its classes, and the helpers it imports."""

    path: Path
    tree: ast.Module
    functions: dict[str, FunctionNode] = field(default_factory=dict)
    methods: dict[str, list[FunctionNode]] = field(default_factory=dict)
    imported: dict[str, tuple[Path, str]] = field(default_factory=dict)


class Checker:
    """Decides, by the rule in this file's docstring, whether a function checks something."""

    def __init__(self) -> None:
        self._modules: dict[Path, Module | None] = {}
        self._verdicts: dict[tuple[Path, int], bool] = {}

    def module(self, path: Path, source: str | None = None) -> Module | None:
        path = path.resolve()
        if path not in self._modules:
            self._modules[path] = None  # a module that imports itself back is not parsed twice
            text = source if source is not None else path.read_text(encoding="utf-8")
            self._modules[path] = self._index(path, ast.parse(text, filename=str(path)))
        return self._modules[path]

    def _index(self, path: Path, tree: ast.Module) -> Module:
        module = Module(path, tree)
        for node in tree.body:
            if isinstance(node, FunctionNode):
                module.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, FunctionNode):
                        module.methods.setdefault(item.name, []).append(item)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module is not None:
                target = _module_file(path, node.module, node.level)
                if target is not None:
                    for alias in node.names:
                        module.imported[alias.asname or alias.name] = (target, alias.name)
        return module

    def test_functions(self, module: Module) -> list[FunctionNode]:
        """The functions pytest collects from the file: ``test*`` at module level or in ``Test*`` classes."""
        top = module.tree.body
        found = [node for node in top if isinstance(node, FunctionNode) and node.name.startswith("test")]
        for node in module.tree.body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                found += [i for i in node.body if isinstance(i, FunctionNode) and i.name.startswith("test")]
        return found

    def checks(self, module: Module, function: FunctionNode) -> bool:
        key = (module.path, function.lineno)
        if key not in self._verdicts:
            self._verdicts[key] = False  # a recursive helper proves nothing by calling itself
            self._verdicts[key] = self._body_checks(module, function)
        return self._verdicts[key]

    def _body_checks(self, module: Module, function: FunctionNode) -> bool:
        local = {n.name: n for n in _own_nodes(function) if isinstance(n, FunctionNode) and n is not function}
        for node in _own_nodes(function):
            if isinstance(node, ast.Assert):
                return True
            if isinstance(node, ast.Raise) and _raises_assertion_error(node):
                return True
            if isinstance(node, ast.Call) and self._call_checks(module, node, local):
                return True
        return False

    def _call_checks(self, module: Module, call: ast.Call, local: dict[str, FunctionNode]) -> bool:
        callee = call.func
        if isinstance(callee, ast.Attribute):
            if isinstance(callee.value, ast.Name) and callee.value.id == "pytest":
                return callee.attr in CHECKING_PYTEST_CALLS
            if callee.attr.startswith("assert"):
                return True
            return any(self.checks(module, method) for method in module.methods.get(callee.attr, []))
        if not isinstance(callee, ast.Name):
            return False
        name = callee.id
        if name.startswith("assert"):
            return True
        if name in local:
            return self.checks(module, local[name])
        if name in module.functions:
            return self.checks(module, module.functions[name])
        if name in module.imported:
            path, original = module.imported[name]
            other = self.module(path)
            helper = other.functions.get(original) if other is not None else None
            return helper is not None and self.checks(other, helper)  # type: ignore[arg-type]
        return False


def _own_nodes(function: FunctionNode) -> list[ast.AST]:
    """Every node of the function's body, not descending into functions, lambdas or classes defined in it."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.append(node)
        if not isinstance(node, FunctionNode | ast.Lambda | ast.ClassDef):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _raises_assertion_error(node: ast.Raise) -> bool:
    exception = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exception, ast.Name) and exception.id == "AssertionError"


def _module_file(importer: Path, name: str, level: int) -> Path | None:
    """The file under tests/ that ``from name import ...`` in ``importer`` reads; None for other modules."""
    parts = name.split(".")
    roots = [importer.parents[level - 1]] if level else list(IMPORT_ROOTS)
    for root in roots:
        for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if candidate.is_file() and TESTS in candidate.resolve().parents:
                return candidate
    return None


def _skip_uses(tree: ast.Module) -> list[int]:
    """Lines that skip: ``pytest.skip`` and ``importorskip`` calls, ``skip``/``skipif`` marks, lax xfail."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SKIPPING_PYTEST_NAMES:
            base = node.value
            if (isinstance(base, ast.Name) and base.id in {"pytest", "mark"}) or (
                isinstance(base, ast.Attribute) and base.attr == "mark"
            ):
                lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "pytest":
            lines += [node.lineno for alias in node.names if alias.name in SKIPPING_PYTEST_NAMES]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "xfail":
            lax = [k for k in node.keywords if k.arg == "strict" and not _is_true(k.value)]
            lines += [node.lineno for _ in lax]
    return sorted(lines)


def _is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


TEST_FILES = sorted(p for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)


def test_the_suite_has_test_files() -> None:
    assert len(TEST_FILES) > 30
    assert Path(__file__) in TEST_FILES


def test_every_test_checks_something() -> None:
    checker = Checker()
    unchecked = []
    for path in TEST_FILES:
        module = checker.module(path)
        assert module is not None
        for function in checker.test_functions(module):
            if not checker.checks(module, function):
                unchecked.append(f"{path.relative_to(TESTS.parent)}:{function.lineno} {function.name}")
    assert not unchecked, (
        "these tests check nothing (no assert, pytest.raises/fail or asserting helper; "
        "see the rule in tests/test_suite_hygiene.py):\n" + "\n".join(unchecked)
    )


def test_no_test_file_skips() -> None:
    skipping = []
    for path in [*TEST_FILES, *TESTS.rglob("conftest.py")]:
        lines = _skip_uses(ast.parse(path.read_text(encoding="utf-8")))
        skipping += [f"{path.relative_to(TESTS.parent)}:{line}" for line in lines]
    assert not skipping, (
        "tests must fail, not skip, when something they need is missing (say how to install it):\n"
        + "\n".join(skipping)
    )


# -- the rule itself, on small examples ----------------------------------------------------------------


def verdicts(source: str, tmp_path: Path) -> dict[str, bool]:
    path = tmp_path / "test_example.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    checker = Checker()
    module = checker.module(path)
    assert module is not None
    return {f.name: checker.checks(module, f) for f in checker.test_functions(module)}


def test_rule_direct_checks(tmp_path: Path) -> None:
    source = """
        import pytest, numpy as np
        def test_assert(): assert 1
        def test_raises():
            with pytest.raises(ValueError): int("x")
        def test_fail(): pytest.fail("no")
        def test_numpy(): np.testing.assert_allclose(1, 1)
        def test_raise_assertion_error(): raise AssertionError("no")
        def test_nothing(): int("1")
        def test_raise_other(): raise ValueError("no")
        def test_skip(): pytest.skip("later")
    """
    assert verdicts(source, tmp_path) == {
        "test_assert": True,
        "test_raises": True,
        "test_fail": True,
        "test_numpy": True,
        "test_raise_assertion_error": True,
        "test_nothing": False,
        "test_raise_other": False,
        "test_skip": False,
    }


def test_rule_helpers(tmp_path: Path) -> None:
    source = """
        def check(x): assert x
        def run(x): return check(x)
        def quiet(x): return x
        def loop(x): return loop(x)
        class Terminal:
            def expect(self, text): assert text
        class TestGroup:
            def test_method(self): check(1)
            def test_quiet_method(self): quiet(1)
        def test_helper(): check(1)
        def test_helper_of_helper(): run(1)
        def test_quiet_helper(): quiet(1)
        def test_recursive_helper(): loop(1)
        def test_method_call(): Terminal().expect("x")
        def test_inner_called():
            def inner(): assert True
            inner()
        def test_inner_never_called():
            def inner(): assert True
        def test_lambda_never_called():
            f = lambda: check(1)
    """
    assert verdicts(source, tmp_path) == {
        "test_helper": True,
        "test_helper_of_helper": True,
        "test_quiet_helper": False,
        "test_recursive_helper": False,
        "test_method_call": True,
        "test_inner_called": True,
        "test_inner_never_called": False,
        "test_lambda_never_called": False,
        "test_method": True,
        "test_quiet_method": False,
    }


def test_rule_imported_helpers_from_the_tests_folder() -> None:
    checker = Checker()
    source = "from corpus import load_corpus\nfrom os.path import join\ndef test_a(): load_corpus('x')\n"
    module = checker.module(TESTS / "sql" / "test_example.py", source)
    assert module is not None
    assert module.imported["load_corpus"][0] == TESTS / "golden" / "corpus.py"
    assert "join" not in module.imported  # os.path is not a test helper


@pytest.mark.parametrize(
    ("source", "skips"),
    [
        ("import pytest\n@pytest.mark.skip\ndef test_a(): assert 1\n", True),
        ("import pytest\n@pytest.mark.skipif(True, reason='x')\ndef test_a(): assert 1\n", True),
        ("from pytest import mark\n@mark.skipif(True, reason='x')\ndef test_a(): assert 1\n", True),
        ("import pytest\nnp = pytest.importorskip('numpy')\n", True),
        ("from pytest import importorskip\nnp = importorskip('numpy')\n", True),
        ("import pytest\ndef test_a(): pytest.skip('x')\n", True),
        ("import pytest\n@pytest.mark.xfail(strict=False)\ndef test_a(): assert 0\n", True),
        ("import pytest\n@pytest.mark.xfail(strict=True)\ndef test_a(): assert 0\n", False),
        ("import pytest\n@pytest.mark.slow\ndef test_skips_nan(): assert 1\n", False),
    ],
)
def test_rule_skips(source: str, skips: bool) -> None:
    assert bool(_skip_uses(ast.parse(source))) is skips


# -- the skip count of conftest.py -----------------------------------------------------------------------


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A fresh folder with the suite's own conftest.py, for small pytest runs."""
    pytester.makeconftest((TESTS / "conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nxfail_strict = true\n")
    return pytester


def test_a_run_without_skips_prints_a_zero_count_and_passes(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        "import pytest\n"
        "def test_a(): assert True\n"
        "@pytest.mark.xfail(raises=ZeroDivisionError)\ndef test_b(): 1 / 0\n"
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["skipped tests: 0"])
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize(
    "source",
    [
        "import pytest\ndef test_a(): assert True\ndef test_b(): pytest.skip('later')\n",
        "import pytest\n@pytest.mark.skipif(True, reason='x')\ndef test_b(): pass\ndef test_a(): assert 1\n",
        "import pytest\npytest.importorskip('no_such_module_anywhere')\ndef test_a(): assert True\n",
    ],
    ids=["skip-call", "skipif-mark", "module-importorskip"],
)
def test_a_run_with_a_skip_prints_the_count_and_fails(suite: pytest.Pytester, source: str) -> None:
    suite.makepyfile(source)
    result = suite.runpytest()
    result.stdout.fnmatch_lines(["skipped tests: 1", "the run fails: a skipped test checks nothing*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
