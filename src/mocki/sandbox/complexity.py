"""Time complexity, read from code and from what the candidate says.

`estimate` reads a submission statically and says how its running time grows with the input:
Python through its syntax tree (loops over input-sized iterables and how they nest, sorting,
`x in some_list` and slices inside loops, amortised pointer and stack loops, recursion with or
without memoisation), JavaScript through a light scan of its tokens (loops and their nesting,
array methods that loop, `.sort`, `.includes`/`.indexOf`, recursion). It is a reading, not a
proof: a reviewer's first impression, right for the usual interview solutions.

`parse_claim` finds the time (and space) complexity the candidate stated, in big-O notation or
in words ("linear", "n log n", "quadratic", "线性", "平方"), and `parse_big_o` reads one label.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

# ---------------------------------------------------------------------------------- big O


@dataclass(frozen=True, order=True)
class Big:
    """A growth class: exponential, or n^power · (log n)^logs. Ordered from slow growth to fast."""

    exponential: bool = False
    power: int = 0
    logs: int = 0

    def __mul__(self, other: Big) -> Big:
        if self.exponential or other.exponential:
            return EXPONENTIAL
        return Big(False, min(self.power + other.power, MAX_POWER), min(self.logs + other.logs, MAX_LOGS))

    @property
    def label(self) -> str:
        if self.exponential:
            return "O(2^n)"
        parts = []
        if self.power == 1:
            parts.append("n")
        elif self.power > 1:
            parts.append(f"n^{self.power}")
        if self.logs == 1:
            parts.append("log n")
        elif self.logs > 1:
            parts.append(f"log^{self.logs} n")
        return f"O({' '.join(parts) or '1'})"


MAX_POWER, MAX_LOGS = 4, 2
CONSTANT = Big()
LOG = Big(logs=1)
LINEAR = Big(power=1)
N_LOG_N = Big(power=1, logs=1)
QUADRATIC = Big(power=2)
CUBIC = Big(power=3)
EXPONENTIAL = Big(exponential=True)

# Why a piece of code costs what it does; the interviewer explains a disagreement with these.
Reason = Literal[
    "constant",
    "halving",
    "loop",
    "scan",
    "sort",
    "nested_loops",
    "scan_in_loop",
    "sort_in_loop",
    "recursion",
    "memoized_recursion",
    "divide_and_conquer",
    "branching_recursion",
]
_LOOP_REASONS = frozenset({"loop", "halving", "nested_loops", "scan_in_loop", "sort_in_loop"})


@dataclass(frozen=True)
class Cost:
    big: Big
    reason: Reason
    # What caused it, for people: "a loop over `nums` inside a loop over `nums`".
    detail: str = ""


ZERO = Cost(CONSTANT, "constant")


def _worst(costs: Iterable[Cost]) -> Cost:
    best = ZERO
    for cost in costs:
        if cost.big > best.big:
            best = cost
    return best


def _loop(factor: Big, what: str, body: Cost) -> Cost:
    """A loop running `factor` times over a body costing `body` each time."""
    if factor == CONSTANT:
        return body
    big = factor * body.big
    if body.big == CONSTANT:
        reason: Reason = "halving" if factor == LOG else "loop"
        return Cost(big, reason, what)
    if body.reason in ("scan", "scan_in_loop"):
        return Cost(big, "scan_in_loop", f"{body.detail} inside {what}")
    if body.reason in ("sort", "sort_in_loop"):
        return Cost(big, "sort_in_loop", f"{body.detail} inside {what}")
    if body.reason in _LOOP_REASONS:
        return Cost(big, "nested_loops", f"{body.detail} inside {what}")
    return Cost(big, body.reason, f"{body.detail} inside {what}")


@dataclass(frozen=True)
class Estimate:
    """The time complexity read from a submission, and the construct that dominates it."""

    time: Big
    reason: Reason
    detail: str
    language: str

    def to_json(self) -> dict[str, str]:
        return {
            "time": self.time.label,
            "reason": self.reason,
            "detail": self.detail,
            "language": self.language,
        }


def estimate(code: str, language: str, function: str | None = None) -> Estimate | None:
    """The submission's time complexity; None when it cannot be read (a syntax error, no code)."""
    if language == "python":
        cost = _python_cost(code, function)
    elif language == "javascript":
        cost = _javascript_cost(code, function)
    else:
        return None
    if cost is None:
        return None
    return Estimate(cost.big, cost.reason, cost.detail, language)


# -------------------------------------------------------------------------------- Python

_SCAN_FUNCS = frozenset(
    {"sum", "min", "max", "any", "all", "list", "tuple", "set", "frozenset", "dict", "Counter", "deque"}
)
_SCAN_METHODS = frozenset({"join", "copy", "count", "index", "extend", "split", "replace", "find"})
# Linear on a list (or unknown sequence), constant on a set or a dict.
_LIST_ONLY_METHODS = frozenset({"remove", "insert", "index", "count"})
_SORT_FUNCS = frozenset({"sorted", "nlargest", "nsmallest"})
_ITER_WRAPPERS = frozenset(
    {"enumerate", "reversed", "zip", "sorted", "list", "tuple", "set", "iter", "filter", "map"}
)
_VIEW_METHODS = frozenset({"items", "keys", "values", "split", "splitlines"})
_MUTATORS = frozenset({"append", "add", "extend", "insert", "appendleft", "update", "setdefault", "push"})
# A while loop that takes from what it tests runs, over the whole run, at most as often as
# elements were put in.
_SHRINKERS = frozenset({"pop", "popleft", "popitem", "remove", "discard"})
_CACHE_DECORATORS = frozenset({"lru_cache", "cache", "memoize", "memoized"})
_HASHED = "hashed"  # a set or dict: membership and removal are constant time
_SEQUENCE = "sequence"


def _python_cost(code: str, function: str | None) -> Cost | None:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    functions = _PyFunctions(tree)
    target = functions.target(function)
    if target is None:
        return _PyScope(functions, set(), {}).block(tree.body)
    return functions.cost(target, outer=None)


class _PyFunctions:
    """Every function of the module by name, and each one's cost, computed once."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.by_name: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.by_name.setdefault(node.name, node)
        self.costs: dict[str, Cost] = {}
        self.busy: set[str] = set()

    def target(self, name: str | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        if name and name in self.by_name:
            return self.by_name[name]
        top = [n for n in self.tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        return top[-1] if top else None

    def cost(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, outer: _PyScope | None) -> Cost:
        if fn.name in self.costs:
            return self.costs[fn.name]
        if fn.name in self.busy:
            return ZERO  # mutual recursion: counted where it starts
        self.busy.add(fn.name)
        try:
            sized = set(outer.sized) if outer else set()
            kinds = dict(outer.kinds) if outer else {}
            scope = _PyScope(self, sized, kinds)
            for arg, default in _parameters(fn):
                if arg not in ("self", "cls"):
                    sized.add(arg)
                    kinds[arg] = _SEQUENCE if default is None else scope._kind(default)
            scope.learn(fn.body)
            body = scope.block(fn.body)
            result = _recursion(fn, body, scope)
        finally:
            self.busy.discard(fn.name)
        self.costs[fn.name] = result
        return result


def _parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, ast.expr | None]]:
    """Each parameter's name and default value (`memo={}` makes a dict, not a list to scan)."""
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = [(a.arg, d) for a, d in zip(positional, defaults, strict=True)]
    pairs += [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return pairs


def _own_nodes(fn: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, without those of functions defined inside it."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def _halves(node: ast.AST) -> bool:
    """Whether the expression divides by two (n // 2, n >> 1, (lo + hi) // 2, n / 2)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and isinstance(sub.right, ast.Constant):
            if isinstance(sub.op, ast.FloorDiv | ast.Div) and sub.right.value == 2:
                return True
            if isinstance(sub.op, ast.RShift) and sub.right.value == 1:
                return True
    return False


def _recursion(fn: ast.FunctionDef | ast.AsyncFunctionDef, body: Cost, scope: _PyScope) -> Cost:
    calls = [
        n
        for n in _own_nodes(fn)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == fn.name
    ]
    # Calls made from nested helpers count too: `def dfs(i): ... dfs(i + 1)` is found as dfs's own.
    if not calls:
        return body
    in_loop = any(
        isinstance(loop, ast.For | ast.While) and any(c is n for n in ast.walk(loop) for c in calls)
        for loop in _own_nodes(fn)
    )
    per_call = body if body.big != CONSTANT else ZERO
    if _memoised(fn):
        if per_call.big == CONSTANT:
            return Cost(LINEAR, "memoized_recursion", f"memoised recursion in `{fn.name}`")
        return _loop(LINEAR, "memoised recursion", per_call)
    halved = {
        name
        for node in _own_nodes(fn)
        if isinstance(node, ast.Assign) and _halves(node.value)
        for target in node.targets
        for name in _names(target)
    }
    halving = all(any(_halves(a) or _names(a) & halved for a in c.args) for c in calls)
    # Calls in different branches (`return f(left)` or else `return f(right)`) never both run.
    per_path = _calls_per_path(fn.body, fn.name)
    if halving and per_path == 1 and not in_loop:
        depth = Cost(LOG, "halving", f"`{fn.name}` calls itself on half the input")
        return _loop(LOG, depth.detail, per_call) if per_call.big != CONSTANT else depth
    if halving and per_path == 2 and not in_loop:
        if per_call.big >= LINEAR:
            return Cost(per_call.big * LOG, "divide_and_conquer", f"`{fn.name}` splits the input in halves")
        return Cost(LINEAR, "divide_and_conquer", f"`{fn.name}` splits the input in halves")
    if per_path >= 2 or in_loop:
        return Cost(EXPONENTIAL, "branching_recursion", f"each call of `{fn.name}` makes several more calls")
    depth_detail = f"`{fn.name}` calls itself once per element"
    if per_call.big == CONSTANT:
        return Cost(LINEAR, "recursion", depth_detail)
    return Cost(LINEAR * per_call.big, "recursion", f"{per_call.detail} at every level of {depth_detail}")


def _self_calls(node: ast.AST, name: str) -> int:
    return sum(
        1
        for n in [node, *_own_nodes(node)]
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    )


def _ends(body: Sequence[ast.stmt]) -> bool:
    """Whether a block always returns (or raises) before falling through."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Return | ast.Raise):
        return True
    return isinstance(last, ast.If) and _ends(last.body) and _ends(last.orelse)


def _calls_per_path(body: Sequence[ast.stmt], name: str) -> int:
    """The most calls to `name` one run through the block can make, branch by branch."""
    if not body:
        return 0
    first, rest = body[0], body[1:]
    if isinstance(first, ast.Return | ast.Raise):
        return _self_calls(first, name)
    if isinstance(first, ast.If):
        after = _calls_per_path(rest, name)
        branches = []
        for branch in (first.body, first.orelse):
            inside = _calls_per_path(branch, name)
            branches.append(inside if _ends(branch) else inside + after)
        return _self_calls(first.test, name) + max(branches)
    return _self_calls(first, name) + _calls_per_path(rest, name)


def _memoised(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _CACHE_DECORATORS:
            return True
    checked: set[str] = set()
    stored: set[str] = set()
    for node in _own_nodes(fn):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            checked.update(_names(node.comparators[0]))
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    stored.update(_names(target.value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            checked.update(_names(node.func.value))
    return bool(checked & stored)


_NUMBER_CALLS = frozenset(
    {"len", "max", "min", "abs", "int", "ord", "sum", "round", "float", "bisect_left", "bisect_right"}
)


def _is_number(node: ast.AST) -> bool:
    """Whether an expression plainly computes a number (a length, an index, arithmetic)."""
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return (
            not isinstance(node, ast.BinOp)
            or not isinstance(node.op, ast.Add)
            or not any(
                isinstance(side, ast.List | ast.ListComp | ast.Subscript) for side in (node.left, node.right)
            )
        )
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    return isinstance(node, ast.Call) and _call_name(node) in _NUMBER_CALLS


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _call_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


def _call_name_of(node: ast.AST) -> str:
    return _call_name(node) if isinstance(node, ast.Call) else ""


def _receiver_names(call: ast.Call) -> set[str]:
    return _names(call.func.value) if isinstance(call.func, ast.Attribute) else set()


def _mutated(call: ast.Call) -> str:
    """The name of the collection a call like `seen.add(x)` grows, or ""."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _MUTATORS and isinstance(func.value, ast.Name):
        return func.value.id
    return ""


def _root_name(node: ast.AST) -> str | None:
    """`nums` for nums, nums[1:], nums.copy(), sorted(nums): the collection an expression reads."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute) or (
            isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)
        ):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        elif isinstance(node, ast.Call) and node.args:
            node = node.args[0]
        else:
            return None


class _PyScope:
    """The names of one function that grow with the input, and what the function's code costs."""

    def __init__(self, functions: _PyFunctions, sized: set[str], kinds: dict[str, str]) -> None:
        self.functions = functions
        self.sized = sized
        self.kinds = kinds
        # Sized names that are numbers (a length, an index), not collections to loop over or scan.
        self.scalars: set[str] = set()
        self.loops: list[ast.For | ast.While] = []

    # ------------------------------------------------------------ which names are input-sized

    def learn(self, body: Sequence[ast.stmt]) -> None:
        """Mark names that grow with the input: copies of it, its length, indices over it, and
        collections filled in a loop over it. Twice, so a name learnt late still counts early."""
        for _ in range(2):
            for stmt in body:
                self._learn(stmt, in_loop=False)

    def _learn(self, node: ast.AST, in_loop: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _names(target) if isinstance(target, ast.Name | ast.Tuple | ast.List) else ():
                    if self.sized_expr(node.value):
                        self.sized.add(name)
                    if _is_number(node.value):
                        self.scalars.add(name)
                    self.kinds[name] = self._kind(node.value)
        if isinstance(node, ast.For):
            self._learn_targets(node)
            in_loop = in_loop or self.iter_factor(node.iter) != CONSTANT
        if isinstance(node, ast.While):
            in_loop = True
        if in_loop and isinstance(node, ast.Call) and _mutated(node):
            self.sized.add(_mutated(node))
        if in_loop and isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    self.sized.add(target.value.id)
        for child in ast.iter_child_nodes(node):
            self._learn(child, in_loop)

    def _learn_targets(self, loop: ast.For) -> None:
        it = loop.iter
        if isinstance(it, ast.Call) and _call_name(it) == "range" and self.sized_expr(it):
            self.sized.update(_names(loop.target))  # an index up to the input's size
            self.scalars.update(_names(loop.target))
        elif _call_name_of(it) == "enumerate" and isinstance(loop.target, ast.Tuple) and loop.target.elts:
            counted = self.iter_factor(it) != CONSTANT
            index = _names(loop.target.elts[0]) if counted else set()
            self.sized.update(index)
            self.scalars.update(index)

    def _kind(self, value: ast.expr) -> str:
        if isinstance(value, ast.Dict | ast.Set | ast.DictComp | ast.SetComp):
            return _HASHED
        if isinstance(value, ast.Call) and _call_name(value) in (
            "set",
            "dict",
            "frozenset",
            "Counter",
            "defaultdict",
            "OrderedDict",
        ):
            return _HASHED
        return _SEQUENCE

    def collection(self, node: ast.AST) -> bool:
        """Whether the value is a collection that grows with the input (not a size or an index)."""
        if isinstance(node, ast.Name) and node.id in self.scalars:
            return False
        return not _is_number(node) and self.sized_expr(node)

    def sized_expr(self, node: ast.AST) -> bool:
        """Whether the value grows with the input (a size, an index or a collection), not an element."""
        if isinstance(node, ast.Name):
            return node.id in self.sized
        if isinstance(node, ast.Subscript):
            return isinstance(node.slice, ast.Slice) and self.sized_expr(node.value)
        if isinstance(node, ast.Compare | ast.BoolOp | ast.Constant | ast.Lambda):
            return False
        if isinstance(node, ast.Call) and _call_name(node) in (
            "sum",
            "min",
            "max",
            "abs",
            "ord",
            "chr",
            "hash",
        ):
            return False
        if isinstance(node, ast.Attribute):
            return self.sized_expr(node.value)
        return any(self.sized_expr(child) for child in ast.iter_child_nodes(node))

    # ------------------------------------------------------------------------------ costs

    def iter_factor(self, it: ast.expr) -> Big:
        """How many times a loop over this iterable runs: with the input's size, or a fixed count."""
        if isinstance(it, ast.Call):
            name = _call_name(it)
            if name == "range":
                return LINEAR if any(self.sized_expr(a) for a in it.args) else CONSTANT
            if name in _ITER_WRAPPERS:
                return LINEAR if any(self.iter_factor(a) != CONSTANT for a in it.args) else CONSTANT
            if isinstance(it.func, ast.Attribute) and name in _VIEW_METHODS:
                return LINEAR if self.sized_expr(it.func.value) else CONSTANT
        return LINEAR if self.sized_expr(it) else CONSTANT

    def _describe(self, node: ast.AST) -> str:
        if isinstance(node, ast.Call) and _call_name(node) == "range" and node.args:
            node = next((a for a in reversed(node.args) if self.sized_expr(a)), node.args[-1])
        root = _root_name(node)
        return f"`{root}`" if root else "the input"

    def block(self, body: Sequence[ast.stmt]) -> Cost:
        return _worst(self.stmt(s) for s in body)

    def stmt(self, node: ast.stmt) -> Cost:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return ZERO  # counted where it is called
        if isinstance(node, ast.For | ast.AsyncFor):
            return self._for(node)
        if isinstance(node, ast.While):
            return self._while(node)
        costs = [self.expr(c) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        for name in ("body", "orelse", "finalbody"):
            costs.append(self.block(getattr(node, name, None) or []))
        for handler in getattr(node, "handlers", None) or []:
            costs.append(self.block(handler.body))
        for case in getattr(node, "cases", None) or []:
            costs.append(self.block(case.body))
        return _worst(costs)

    def _for(self, node: ast.For | ast.AsyncFor) -> Cost:
        factor = self.iter_factor(node.iter)
        self.loops.append(node)  # type: ignore[arg-type]
        try:
            body = self.block([*node.body, *node.orelse])
        finally:
            self.loops.pop()
        what = f"a loop over {self._describe(node.iter)}"
        return _worst([self.expr(node.iter), _loop(factor, what, body)])

    def _while(self, node: ast.While) -> Cost:
        amortised = bool(self.loops) and self._amortised(node)
        factor = LOG if self._halving(node) else LINEAR
        self.loops.append(node)
        try:
            body = _worst([self.expr(node.test), self.block([*node.body, *node.orelse])])
        finally:
            self.loops.pop()
        if amortised:
            return body  # its steps are shared out over the enclosing loop (a pointer or a stack)
        what = "a loop that halves its range" if factor == LOG else "a while loop"
        return _loop(factor, what, body)

    def _halving(self, node: ast.While) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.AugAssign) and isinstance(sub.value, ast.Constant):
                if isinstance(sub.op, ast.FloorDiv | ast.Div | ast.Mult) and sub.value.value == 2:
                    return True
                if isinstance(sub.op, ast.RShift | ast.LShift) and sub.value.value == 1:
                    return True
            if isinstance(sub, ast.Assign) and _halves(sub.value):
                return True
        return False

    def _amortised(self, node: ast.While) -> bool:
        """A while inside another loop whose steps, over the whole run, add up to the input's size:
        it pops a stack the outer loop pushes, or moves a pointer the outer loop never resets."""
        tested = _names(node.test)
        outer = self.loops[0]
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and _call_name(sub) in _SHRINKERS and _receiver_names(sub) & tested:
                return True
        # A pointer: stepped by the loop, and tested or used as an index (not a counter).
        indices = {
            name for sub in ast.walk(node) if isinstance(sub, ast.Subscript) for name in _names(sub.slice)
        }
        stepped = {
            sub.target.id
            for sub in ast.walk(node)
            if isinstance(sub, ast.AugAssign)
            and isinstance(sub.target, ast.Name)
            and isinstance(sub.op, ast.Add | ast.Sub)
            and sub.target.id in tested | indices
        }
        if not stepped:
            return False
        reset = set(_names(outer.target)) if isinstance(outer, ast.For) else set()
        for sub in ast.walk(outer):
            if isinstance(sub, ast.Assign):
                for target in sub.targets:
                    reset |= _names(target)
        return bool(stepped - reset)

    def expr(self, node: ast.AST) -> Cost:
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            return self._comprehension(node)
        if isinstance(node, ast.Lambda):
            return ZERO
        own = ZERO
        if isinstance(node, ast.Call):
            own = self._call(node)
        elif isinstance(node, ast.Compare):
            own = self._membership(node)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            own = self._slice(node)
        return _worst([own, *(self.expr(c) for c in ast.iter_child_nodes(node))])

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Cost:
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for gen in node.generators:
            if (
                isinstance(gen.iter, ast.Call)
                and _call_name(gen.iter) == "range"
                and self.sized_expr(gen.iter)
            ):
                self.sized.update(_names(gen.target))
        body = _worst(
            [*(self.expr(e) for e in elements), *(self.expr(c) for g in node.generators for c in g.ifs)]
        )
        cost = body
        for gen in reversed(node.generators):
            cost = _worst(
                [
                    self.expr(gen.iter),
                    _loop(self.iter_factor(gen.iter), f"a loop over {self._describe(gen.iter)}", cost),
                ]
            )
        return cost

    def _call(self, node: ast.Call) -> Cost:
        name = _call_name(node)
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        local = self.functions.by_name.get(name) if isinstance(node.func, ast.Name) else None
        if local is not None:
            return self.functions.cost(local, outer=self)
        arg_sized = (
            len(node.args) == 1
            and self.collection(node.args[0])
            and self.iter_factor(node.args[0]) != CONSTANT
        )
        if name in _SORT_FUNCS and arg_sized:
            return Cost(N_LOG_N, "sort", f"sorting {self._describe(node.args[0])}")
        if name == "sort" and receiver is not None and self.sized_expr(receiver):
            return Cost(N_LOG_N, "sort", f"sorting {self._describe(receiver)}")
        if receiver is None and name in _SCAN_FUNCS and arg_sized:
            return Cost(LINEAR, "scan", f"`{name}()` over {self._describe(node.args[0])}")
        if receiver is not None:
            kind = self.kinds.get(_root_name(receiver) or "", _SEQUENCE)
            if name in _LIST_ONLY_METHODS and kind == _HASHED:
                return ZERO
            if name in _SCAN_METHODS | _LIST_ONLY_METHODS and (self.collection(receiver) or arg_sized):
                return Cost(LINEAR, "scan", f"`.{name}()` on {self._describe(receiver)}")
            front = bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
            if name == "pop" and front and self.collection(receiver) and kind != _HASHED:
                return Cost(LINEAR, "scan", f"`.pop(0)` on {self._describe(receiver)}")
        return ZERO

    def _membership(self, node: ast.Compare) -> Cost:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if not isinstance(op, ast.In | ast.NotIn):
                continue
            if isinstance(right, ast.Call) and _call_name(right) in ("keys", "set", "dict", "frozenset"):
                continue
            root = _root_name(right)
            if root is not None and self.kinds.get(root) == _HASHED and not isinstance(right, ast.Subscript):
                continue
            if self.collection(right):
                return Cost(LINEAR, "scan", f"`in` on {self._describe(right)}, which scans it")
        return ZERO

    def _slice(self, node: ast.Subscript) -> Cost:
        sl = node.slice
        assert isinstance(sl, ast.Slice)
        if not self.collection(node.value) or _fixed_width(sl):
            return ZERO
        return Cost(LINEAR, "scan", f"slicing {self._describe(node.value)}, which copies it")


def _fixed_width(sl: ast.Slice) -> bool:
    """s[i:i + 2], s[:3], s[-2:]: a slice whose length does not grow with the input."""
    lower, upper = sl.lower, sl.upper

    def const(n: ast.expr | None) -> bool:
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            n = n.operand
        return isinstance(n, ast.Constant)

    if (lower is None or const(lower)) and (upper is not None and const(upper)):
        return True
    if lower is not None and const(lower) and upper is None:
        return isinstance(lower, ast.UnaryOp)  # s[-2:]
    if lower is not None and upper is not None:
        for a, b in ((lower, upper), (upper, lower)):
            stepped = isinstance(b, ast.BinOp) and isinstance(b.op, ast.Add | ast.Sub) and const(b.right)
            if stepped and ast.dump(b.left) == ast.dump(a):  # type: ignore[attr-defined]
                return True
    return False


# ---------------------------------------------------------------------------- JavaScript

_JS_TOKEN = re.compile(
    r"[A-Za-z_$][\w$]*|\d+(?:\.\d+)?|=>|===|!==|>>>=|>>>|>>=|<<=|\.\.\.|==|!=|<=|>=|\+\+|--|\+=|-=|\*=|/=|"
    r">>|<<|&&|\|\||\?\?|\S"
)
_JS_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_JS_STRING = re.compile(r"'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`", re.DOTALL)
_JS_LOOP_METHODS = frozenset(
    {"forEach", "map", "filter", "reduce", "reduceRight", "some", "every", "find", "findIndex", "flatMap"}
)
_JS_SCAN_METHODS = frozenset(
    {"includes", "indexOf", "lastIndexOf", "splice", "shift", "unshift", "slice", "concat", "join", "reverse"}
)
_JS_SCAN_CALLS = frozenset({"from"})  # Array.from(x)
_JS_HASHED = re.compile(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:new\s+(?:Set|Map|WeakMap)\b|\{)")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_JS_MEMO = re.compile(r"(?:memo|cache|dp|seen|table)\w*", re.I)


@dataclass
class _JsFunction:
    name: str
    params: list[str]
    start: int  # body token range [start, end)
    end: int


@dataclass
class _JsScan:
    tokens: list[str]
    functions: dict[str, _JsFunction] = field(default_factory=dict)
    hashed: set[str] = field(default_factory=set)
    costs: dict[str, Cost] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)


def _js_tokens(code: str) -> list[str]:
    code = _JS_COMMENT.sub(" ", code)
    code = _JS_STRING.sub(" '' ", code)
    return _JS_TOKEN.findall(code)


def _match(tokens: Sequence[str], i: int) -> int:
    """The index of the bracket closing the one at `i` (or the end)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opening, closing = tokens[i], pairs[tokens[i]]
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] == opening:
            depth += 1
        elif tokens[j] == closing:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def _statement_end(tokens: Sequence[str], i: int, end: int) -> int:
    """The end (exclusive) of the statement or block starting at `i`."""
    if i < end and tokens[i] == "{":
        return _match(tokens, i) + 1
    depth = 0
    j = i
    while j < end:
        t = tokens[j]
        if t in "([{":
            depth += 1
        elif t in ")]}":
            if depth == 0:
                return j
            depth -= 1
        elif t == ";" and depth == 0:
            return j + 1
        j += 1
    return end


def _js_functions(tokens: list[str]) -> dict[str, _JsFunction]:
    found: dict[str, _JsFunction] = {}
    for i, t in enumerate(tokens):
        name, params_at = None, None
        if t == "function" and i + 2 < len(tokens) and tokens[i + 2] == "(":
            name, params_at = tokens[i + 1], i + 2
        elif t in ("const", "let", "var") and i + 3 < len(tokens) and tokens[i + 2] == "=":
            j = i + 3
            if tokens[j] == "async":
                j += 1
            if tokens[j] == "function":
                j += 1 + (tokens[j + 1] != "(")
            if j < len(tokens) and tokens[j] == "(":
                close = _match(tokens, j)
                if close + 1 < len(tokens) and tokens[close + 1] in ("=>", "{"):
                    name, params_at = tokens[i + 1], j
            elif j + 1 < len(tokens) and tokens[j + 1] == "=>":
                name = tokens[i + 1]
                body_start = j + 2
                end = _statement_end(tokens, body_start, len(tokens))
                found.setdefault(name, _JsFunction(name, [tokens[j]], body_start, end))
                continue
        if name is None or params_at is None:
            continue
        close = _match(tokens, params_at)
        params = [p for p in tokens[params_at + 1 : close] if _IDENT.fullmatch(p)]
        k = close + 1
        if k < len(tokens) and tokens[k] == "=>":
            k += 1
        end = _statement_end(tokens, k, len(tokens))
        found.setdefault(name, _JsFunction(name, params, k, end))
    return found


def _javascript_cost(code: str, function: str | None) -> Cost | None:
    tokens = _js_tokens(code)
    if not tokens:
        return None
    scan = _JsScan(tokens, _js_functions(tokens), set(_JS_HASHED.findall(_JS_STRING.sub("''", code))))
    target = scan.functions.get(function or "") or (
        list(scan.functions.values())[-1] if scan.functions else None
    )
    if target is None:
        return _JsBody(scan, None, set()).cost(0, len(tokens))
    return _js_function_cost(scan, target)


def _js_function_cost(scan: _JsScan, fn: _JsFunction) -> Cost:
    if fn.name in scan.costs:
        return scan.costs[fn.name]
    if fn.name in scan.busy:
        return ZERO
    scan.busy.add(fn.name)
    try:
        body = _JsBody(scan, fn, set())
        cost = body.cost(fn.start, fn.end)
        result = _js_recursion(scan, fn, cost, body)
    finally:
        scan.busy.discard(fn.name)
    scan.costs[fn.name] = result
    return result


def _js_recursion(scan: _JsScan, fn: _JsFunction, body: Cost, walker: _JsBody) -> Cost:
    toks = scan.tokens
    calls = [
        i
        for i in range(fn.start, fn.end)
        if toks[i] == fn.name
        and i + 1 < fn.end
        and toks[i + 1] == "("
        and toks[i - 1] not in ("function", ".")
    ]
    if not calls:
        return body
    per_call = body if body.big != CONSTANT else ZERO
    own = toks[fn.start : fn.end]
    looked_up = any(own[k] == "." and own[k + 1] == "has" for k in range(len(own) - 1))
    memo = any(_JS_MEMO.fullmatch(t) for t in own) and (looked_up or "in" in own or "undefined" in own)
    if memo:
        if per_call.big == CONSTANT:
            return Cost(LINEAR, "memoized_recursion", f"memoised recursion in `{fn.name}`")
        return _loop(LINEAR, "memoised recursion", per_call)
    halving = all(any(t in (">>", "/") for t in toks[i + 1 : _match(toks, i + 1)]) for i in calls)
    in_loop = any(walker.in_loop_at(i) for i in calls)
    # `return f(left)` in one branch and `return f(right)` in another: one call per path.
    returned = [i for i in calls if toks[i - 1] == "return"]
    per_path = len(calls) - len(returned) + (1 if returned else 0)
    if halving and per_path == 1 and not in_loop:
        depth = Cost(LOG, "halving", f"`{fn.name}` calls itself on half the input")
        return _loop(LOG, depth.detail, per_call) if per_call.big != CONSTANT else depth
    if per_path >= 2 or in_loop:
        if halving and per_path == 2:
            big = per_call.big * LOG if per_call.big >= LINEAR else LINEAR
            return Cost(big, "divide_and_conquer", f"`{fn.name}` splits the input in halves")
        return Cost(EXPONENTIAL, "branching_recursion", f"each call of `{fn.name}` makes several more calls")
    detail = f"`{fn.name}` calls itself once per element"
    if per_call.big == CONSTANT:
        return Cost(LINEAR, "recursion", detail)
    return Cost(LINEAR * per_call.big, "recursion", f"{per_call.detail} at every level of {detail}")


class _JsBody:
    """Walks one function body's tokens, multiplying the cost of what each loop runs."""

    def __init__(self, scan: _JsScan, fn: _JsFunction | None, elements: set[str]) -> None:
        self.scan = scan
        self.fn = fn
        # Loop variables that hold one element (a word, a row): a loop over them does not grow with n.
        self.elements = set(elements)
        self.loop_spans: list[tuple[int, int]] = []
        self._open: list[tuple[int, int]] = []  # loops enclosing the position being read

    def in_loop_at(self, i: int) -> bool:
        return any(s <= i < e for s, e in self.loop_spans)

    def _root(self, dot: int) -> str:
        """The identifier a method chain starts from: `w` in w.split('').sort(), `s` in [...s].map()."""
        toks = self.scan.tokens
        j = dot - 1
        while j >= 0:
            if toks[j] in (")", "]"):
                close, depth = j, 0
                while j >= 0:
                    if toks[j] in (")", "]"):
                        depth += 1
                    elif toks[j] in ("(", "["):
                        depth -= 1
                        if depth == 0:
                            break
                    j -= 1
                if j <= 0 or not _IDENT.fullmatch(toks[j - 1]):
                    # The chain starts with the group itself: [...s] or (a || b).
                    return next((t for t in toks[j + 1 : close] if _IDENT.fullmatch(t)), "")
                j -= 1
                continue
            if j >= 1 and toks[j - 1] == ".":
                j -= 2
                continue
            return toks[j]
        return ""

    def _over_element(self, names: Iterable[str]) -> bool:
        idents = [n for n in names if _IDENT.fullmatch(n) and n not in ("length", "const", "let")]
        return bool(idents) and all(n in self.elements for n in idents)

    def cost(self, start: int, end: int) -> Cost:
        toks = self.scan.tokens
        costs: list[Cost] = []
        i = start
        while i < end:
            t = toks[i]
            if t in ("for", "while") and i + 1 < end and toks[i + 1] == "(":
                cost, i = self._loop(i, end)
                costs.append(cost)
                continue
            if t == "do" and i + 1 < end and toks[i + 1] == "{":
                body_end = _match(toks, i + 1)
                self.loop_spans.append((i, body_end + 1))
                self._open.append((i, body_end + 1))
                try:
                    body = self.cost(i + 2, body_end)
                finally:
                    self._open.pop()
                costs.append(_loop(LINEAR, "a do-while loop", body))
                i = body_end + 1
                continue
            if t == "." and i + 2 < end and toks[i + 2] == "(":
                cost, i = self._method(i, end)
                costs.append(cost)
                continue
            if t == "..." and i + 1 < end and toks[i + 1] not in self.elements and self._open:
                costs.append(Cost(LINEAR, "scan", f"spreading `{toks[i + 1]}`, which copies it"))
            if (
                t in self.scan.functions
                and i + 1 < end
                and toks[i + 1] == "("
                and toks[i - 1] not in ("function", ".")
            ):
                callee = self.scan.functions[t]
                if self.fn is None or callee.name != self.fn.name:
                    costs.append(_js_function_cost(self.scan, callee))
            i += 1
        return _worst(costs)

    def _loop(self, i: int, end: int) -> tuple[Cost, int]:
        toks = self.scan.tokens
        header_end = _match(toks, i + 1)
        header = toks[i + 2 : header_end]
        body_start = header_end + 1
        body_end = _statement_end(toks, body_start, end)
        factor, what = self._factor(toks[i], header, body_start, body_end)
        amortised = toks[i] == "while" and bool(self._open) and self._amortised(header, body_start, body_end)
        # for-of and for-in read their source once; a condition is evaluated on every pass.
        once = toks[i] == "for" and ";" not in header
        before = self.cost(i + 2, header_end) if once else ZERO
        span = (i, body_end)
        self.loop_spans.append(span)
        self._open.append(span)
        try:
            each = ZERO if once else self.cost(i + 2, header_end)
            body = _worst([each, self.cost(body_start, body_end)])
        finally:
            self._open.pop()
        if amortised:
            return _worst([before, body]), body_end
        return _worst([before, _loop(factor, what, body)]), body_end

    def _factor(self, keyword: str, header: list[str], body_start: int, body_end: int) -> tuple[Big, str]:
        toks = self.scan.tokens
        body = toks[body_start:body_end]
        if keyword == "for" and ("of" in header or "in" in header) and ";" not in header:
            split = header.index("of") if "of" in header else header.index("in")
            source = header[split + 1 :]
            variables = [
                t for t in header[:split] if _IDENT.fullmatch(t) and t not in ("const", "let", "var")
            ]
            over_element = self._over_element(source)
            if header[split] == "of":
                self.elements.update(variables)
            name = next((t for t in source if _IDENT.fullmatch(t)), "the input")
            return (CONSTANT if over_element else LINEAR), f"a loop over `{name}`"
        parts = " ".join(header).split(";")
        condition = (parts[1] if len(parts) >= 3 else parts[0]).split()
        update = " ".join(parts[2:]) if len(parts) >= 3 else " ".join(body)
        if any(op in update for op in ("*= 2", "/= 2", ">>= 1", "<<= 1", ">>> 1", ">> 1", "/ 2")):
            return LOG, "a loop that halves its range"
        numbers = [t for t in condition if re.fullmatch(r"\d+(?:\.\d+)?", t)]
        idents = [t for t in condition if _IDENT.fullmatch(t) and t != "length"]
        loop_var = header[1] if len(header) > 1 and header[0] in ("let", "var", "const") else None
        bounds = [t for t in idents if t != loop_var]
        if numbers and not bounds and keyword == "for":
            return CONSTANT, "a loop of fixed length"
        if bounds and self._over_element(bounds):
            return CONSTANT, "a loop over one element"
        name = next(iter(bounds), "the input")
        return LINEAR, ("a while loop" if keyword == "while" else f"a loop up to `{name}`")

    def _amortised(self, header: list[str], body_start: int, body_end: int) -> bool:
        """A while inside a loop that pops a stack, or moves a pointer declared outside the loop."""
        toks = self.scan.tokens
        tested = {t for t in header if _IDENT.fullmatch(t)}
        body = toks[body_start:body_end]
        for k in range(len(body) - 2):
            if (
                body[k] == "."
                and body[k + 1] in ("pop", "shift", "delete")
                and self._root(body_start + k) in tested
            ):
                return True
        indices = {body[k] for k in range(1, len(body)) if body[k - 1] == "[" and _IDENT.fullmatch(body[k])}
        stepped = {
            body[k]
            for k in range(len(body))
            if body[k] in tested | indices
            and (
                (k + 1 < len(body) and body[k + 1] in ("++", "--", "+=", "-="))
                or (k > 0 and body[k - 1] in ("++", "--"))
            )
        }
        if not stepped:
            return False
        outer_start, outer_end = self._open[0]
        for k in range(outer_start, outer_end):
            if toks[k] in stepped and k + 1 < outer_end and toks[k + 1] == "=":
                return False  # reset inside the outer loop: a fresh inner scan each time
            if toks[k] in ("let", "const", "var") and k + 1 < outer_end and toks[k + 1] in stepped:
                return False
        return True

    def _method(self, dot: int, end: int) -> tuple[Cost, int]:
        toks = self.scan.tokens
        name = toks[dot + 1]
        call_end = _match(toks, dot + 2)
        root = self._root(dot)
        over_element = root in self.elements or root in ("Object", "Math", "JSON", "String", "Number")
        if name in _JS_LOOP_METHODS:
            params = self._callback_params(dot + 3, call_end)
            inner = _JsBody(self.scan, self.fn, self.elements | set(params))
            inner.loop_spans = self.loop_spans
            inner._open = [*self._open, (dot, call_end + 1)]
            self.loop_spans.append((dot, call_end + 1))
            body = inner.cost(dot + 3, call_end)
            factor = CONSTANT if over_element else LINEAR
            return _loop(factor, f"`.{name}()` over `{root}`", body), call_end + 1
        inner_cost = self.cost(dot + 3, call_end)
        own = ZERO
        if name == "sort" and not over_element:
            own = Cost(N_LOG_N, "sort", f"sorting `{root}`")
        elif name in _JS_SCAN_METHODS or (name in _JS_SCAN_CALLS and root == "Array"):
            scans = not over_element and root not in self.scan.hashed
            own = Cost(LINEAR, "scan", f"`.{name}()` on `{root}`, which scans it") if scans else ZERO
        return _worst([own, inner_cost]), call_end + 1

    def _callback_params(self, start: int, end: int) -> list[str]:
        toks = self.scan.tokens
        if start < end and toks[start] == "(":
            close = _match(toks, start)
            return [t for t in toks[start + 1 : close] if _IDENT.fullmatch(t)]
        if start < end and toks[start] == "function" and start + 1 < end:
            open_at = start + 1 if toks[start + 1] == "(" else start + 2
            close = _match(toks, open_at)
            return [t for t in toks[open_at + 1 : close] if _IDENT.fullmatch(t)]
        if start + 1 < end and toks[start + 1] == "=>":
            return [toks[start]]
        return []


# -------------------------------------------------------------------------- stated claims

_O_CALL = re.compile(r"(?<![A-Za-z])[OoＯ]\s*[(（]\s*((?:[^()（）]|[(（][^()（）]*[)）])*)\s*[)）]")
_WORDS: tuple[tuple[re.Pattern[str], Big], ...] = (
    (
        re.compile(
            r"\bn\s*[-\s·*]?\s*log\s*[-\s]?\s*n\b|\blinearithmic\b|\blog[-\s]?linear\b|线性对数", re.I
        ),
        N_LOG_N,
    ),
    (
        re.compile(r"\bquadratic(?:ally)?\b|\bn\s*(?:\^|\*\*)\s*2\b|\bn[-\s]squared\b|n²|平方|二次", re.I),
        QUADRATIC,
    ),
    (re.compile(r"\bcubic\b|\bn\s*(?:\^|\*\*)\s*3\b|\bn[-\s]cubed\b|n³|立方|三次方?", re.I), CUBIC),
    (re.compile(r"\bexponential(?:ly)?\b|\b2\s*(?:\^|\*\*)\s*n\b|指数", re.I), EXPONENTIAL),
    (re.compile(r"\blogarithmic\b|\blog\s*\(?\s*n\s*\)?(?!\s*\w)|对数", re.I), LOG),
    (re.compile(r"(?<!non-)(?<!non )\blinear(?:ly)?\b|线性", re.I), LINEAR),
    (re.compile(r"\bconstant\b|常数|常量", re.I), CONSTANT),
)
_TIME = re.compile(r"\btime\b|\brun[-\s]?time\b|\bruntime\b|\bspeed\b|时间|运行", re.I)
_SPACE = re.compile(r"\bspace\b|\bmemory\b|\bstorage\b|空间|内存", re.I)
# A clause about one step ("lookups are constant time") is not the whole solution's cost.
_PART = re.compile(
    r"\blook-?ups?\b|\baccess(?:es)?\b|\binsert(?:s|ion|ions)?\b|\bper\b|\beach\b|查找|每次|每个", re.I
)
_CLAUSE = re.compile(r"[.;!?\n。；！？，,]+(?=\s|$|[^\d])")


@dataclass(frozen=True)
class Claim:
    """The complexity the candidate stated: time and space, either possibly missing."""

    time: Big | None
    space: Big | None


def parse_big_o(text: str) -> Big | None:
    """One growth class from "O(n log n)", "O(n^2)", "O(1)", "O(2^n)", or a word ("linear")."""
    match = _O_CALL.search(text)
    if match:
        return _parse_inner(match.group(1))
    for pattern, big in _WORDS:
        if pattern.search(text):
            return big
    return None


_INNER_TOKEN = re.compile(r"log|lg|ln|sqrt|[a-z]|\d+(?:\.\d+)?|\^|[()]|!|\+|-")


def _parse_inner(inner: str) -> Big | None:
    text = (
        inner.lower()
        .replace("²", "^2")
        .replace("³", "^3")
        .replace("**", "^")
        .replace("（", "(")
        .replace("）", ")")
        .replace("·", " ")
        .replace("×", " ")
        .replace("*", " ")
    )
    tokens = _INNER_TOKEN.findall(text)
    letters = [t for t in tokens if len(t) == 1 and t.isalpha()]
    if not tokens:
        return None
    primary = "n" if "n" in letters else (letters[0] if letters else "n")
    try:
        parser = _InnerParser(tokens, primary)
        big = parser.expr()
    except (IndexError, ValueError):
        return None
    return big


class _InnerParser:
    """expr := term (('+'|'-') term)* ; term := factor+ ; factor := atom ('^' atom)? '!'?"""

    def __init__(self, tokens: list[str], primary: str) -> None:
        self.tokens = tokens
        self.i = 0
        self.primary = primary

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expr(self) -> Big:
        best = self.term()
        while self.peek() in ("+", "-"):
            self.take()
            best = max(best, self.term())
        return best

    def term(self) -> Big:
        big = self.factor()
        while self.peek() not in (None, "+", "-", ")"):
            big = big * self.factor()
        return big

    def factor(self) -> Big:
        if self.peek() in ("log", "lg", "ln"):
            self.take()
            power = 1
            if self.peek() == "^":
                self.take()
                power = int(float(self.take()))
            argument, _ = self.atom()
            return CONSTANT if argument == CONSTANT else Big(logs=min(power, MAX_LOGS))
        base, number = self.atom()
        if self.peek() == "^":
            self.take()
            exponent, times = self.atom()
            if number is not None:
                return EXPONENTIAL if exponent != CONSTANT else CONSTANT  # 2^n
            if base == CONSTANT:
                return CONSTANT
            power = int(times) if times is not None else 2  # n^k: at least quadratic
            return Big(power=min(base.power * power, MAX_POWER), logs=min(base.logs * power, MAX_LOGS))
        if self.peek() == "!":
            self.take()
            return EXPONENTIAL if base != CONSTANT else CONSTANT
        return base

    def atom(self) -> tuple[Big, float | None]:
        """A growth class, and the number when the atom is one."""
        token = self.take()
        if token == "(":
            inner = self.expr()
            if self.peek() == ")":
                self.take()
            return inner, None
        if token == "sqrt":
            self.atom()
            return LINEAR, None  # rounded up: the classes here have whole powers
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return CONSTANT, float(token)
        if token.isalpha() and len(token) == 1:
            return (LINEAR if token == self.primary else CONSTANT), None
        raise ValueError(token)


@dataclass
class _Mention:
    start: int
    end: int
    big: Big


def _mentions(text: str) -> list[_Mention]:
    found: list[_Mention] = []
    for match in _O_CALL.finditer(text):
        big = _parse_inner(match.group(1))
        if big is not None:
            found.append(_Mention(match.start(), match.end(), big))
    for pattern, big in _WORDS:
        for match in pattern.finditer(text):
            if not any(
                m.start <= match.start() < m.end or match.start() <= m.start < match.end() for m in found
            ):
                found.append(_Mention(match.start(), match.end(), big))
    return sorted(found, key=lambda m: m.start)


def _clauses(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _CLAUSE.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _labels(clause: str, offset: int, inside: list[_Mention]) -> list[str]:
    """Which of "time", "space" or "" each mention of one clause is about. People write either
    "O(n) time and O(1) space" or "time O(n) and space O(1)": the clause's first words tell which."""
    keywords = sorted(
        [(offset + m.start(), "time") for m in _TIME.finditer(clause)]
        + [(offset + m.start(), "space") for m in _SPACE.finditer(clause)]
    )
    if not keywords:
        return [""] * len(inside)
    kinds = {k for _, k in keywords}
    if len(kinds) == 2 and len(inside) == 1:
        return ["both"]
    if len(kinds) == 1:
        return [keywords[0][1]] * len(inside)
    before_first = any(pos < inside[0].start for pos, _ in keywords)
    labels = []
    for i, m in enumerate(inside):
        if before_first:
            low = inside[i - 1].end if i else offset
            found = [k for pos, k in keywords if low <= pos < m.start]
            labels.append(found[-1] if found else "")
        else:
            high = inside[i + 1].start if i + 1 < len(inside) else offset + len(clause)
            found = [k for pos, k in keywords if m.end <= pos < high]
            labels.append(found[0] if found else "")
    return labels


def parse_claim(text: str) -> Claim:
    """The time and space complexity stated in an answer ("O(n) time and O(1) space", "线性时间")."""
    mentions = _mentions(text)
    time_said: list[tuple[bool, _Mention]] = []
    space_said: list[_Mention] = []
    loose: list[tuple[bool, _Mention]] = []
    for start, end in _clauses(text):
        clause = text[start:end]
        inside = [m for m in mentions if start <= m.start < end]
        part = bool(_PART.search(clause))
        for m, label in zip(inside, _labels(clause, start, inside), strict=True):
            if label in ("time", "both"):
                time_said.append((part, m))
            if label in ("space", "both"):
                space_said.append(m)
            if not label:
                loose.append((part, m))
    time = _pick(time_said, loose)
    if space_said:
        space: Big | None = space_said[0].big
    else:
        # "O(n), O(1)": the second of two unlabelled figures is the space.
        rest = [m for _, m in loose if m is not time]
        space = rest[0].big if rest and not time_said and time is not None else None
    return Claim(time.big if time else None, space)


def _pick(time_said: list[tuple[bool, _Mention]], loose: list[tuple[bool, _Mention]]) -> _Mention | None:
    """The figure for the whole solution: said of time before unlabelled, and a clause about the
    whole before one about a single step ("each lookup is O(1)")."""
    for part in (False, True):
        for said in (time_said, loose):
            found = [m for is_part, m in said if is_part == part]
            if found:
                return found[0]
    return None
