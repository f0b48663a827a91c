"""The static time-complexity estimate of submissions (Python and JavaScript) and the parser of the
complexity a candidate states (no sandbox, no model)."""

from __future__ import annotations

import pytest

from mocki.sandbox import Language, builtin_problems
from mocki.sandbox.complexity import (
    CONSTANT,
    CUBIC,
    EXPONENTIAL,
    LINEAR,
    LOG,
    N_LOG_N,
    QUADRATIC,
    Big,
    estimate,
    parse_big_o,
    parse_claim,
)
from tests.integration.sandbox.solutions import JAVASCRIPT, PYTHON

# ------------------------------------------------------------------------------ Python

PY_PROGRAMS: dict[str, tuple[str, Big, str]] = {
    "constant": ("def f(a, b):\n    return a * b + 1\n", CONSTANT, "constant"),
    "loop of fixed length": (
        "def f(s):\n    counts = [0] * 26\n    for i in range(26):\n        counts[i] += 1\n"
        "    return counts\n",
        CONSTANT,
        "constant",
    ),
    "one pass with a dict": (
        """
def two_sum(nums, target):
    seen = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
""",
        LINEAR,
        "loop",
    ),
    "membership in a set": (
        """
def has_duplicate(nums):
    seen = set()
    for x in nums:
        if x in seen:
            return True
        seen.add(x)
    return False
""",
        LINEAR,
        "loop",
    ),
    "brute-force pairs": (
        """
def two_sum(nums, target):
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return [i, j]
""",
        QUADRATIC,
        "nested_loops",
    ),
    "`in` on a slice inside a loop": (
        """
def two_sum(nums, target):
    for i, x in enumerate(nums):
        if target - x in nums[i + 1:]:
            return [i, nums.index(target - x, i + 1)]
""",
        QUADRATIC,
        "scan_in_loop",
    ),
    "`in` on a list being built": (
        """
def dedupe(nums):
    out = []
    for x in nums:
        if x not in out:
            out.append(x)
    return out
""",
        QUADRATIC,
        "scan_in_loop",
    ),
    "nested comprehension": (
        "def table(nums):\n    return [[a * b for b in nums] for a in nums]\n",
        QUADRATIC,
        "nested_loops",
    ),
    "triple loop via sum of slices": (
        """
def max_subarray(nums):
    best = nums[0]
    for i in range(len(nums)):
        for j in range(i, len(nums)):
            best = max(best, sum(nums[i:j + 1]))
    return best
""",
        CUBIC,
        "scan_in_loop",
    ),
    "sort then one pass": (
        """
def widest_gap(nums):
    nums = sorted(nums)
    best = 0
    for i in range(1, len(nums)):
        best = max(best, nums[i] - nums[i - 1])
    return best
""",
        N_LOG_N,
        "sort",
    ),
    "sort inside a loop": (
        "def f(nums):\n    out = []\n    for x in nums:\n        out.append(x)\n        out.sort()\n"
        "    return out\n",
        Big(power=2, logs=1),
        "sort_in_loop",
    ),
    "binary search loop": (
        """
def binary_search(nums, target):
    lo, hi = 0, len(nums) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if nums[mid] == target:
            return mid
        if nums[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1
""",
        LOG,
        "halving",
    ),
    "binary search recursion": (
        """
def search(nums, target, lo=0, hi=None):
    if hi is None:
        hi = len(nums) - 1
    if lo > hi:
        return -1
    mid = (lo + hi) // 2
    if nums[mid] == target:
        return mid
    if nums[mid] < target:
        return search(nums, target, mid + 1, hi)
    return search(nums, target, lo, mid - 1)
""",
        LOG,
        "halving",
    ),
    "naive recursion": (
        """
def climb_stairs(n):
    if n <= 1:
        return 1
    return climb_stairs(n - 1) + climb_stairs(n - 2)
""",
        EXPONENTIAL,
        "branching_recursion",
    ),
    "recursion in a nested helper": (
        """
def climb_stairs(n):
    def ways(k):
        if k <= 1:
            return 1
        return ways(k - 1) + ways(k - 2)
    return ways(n)
""",
        EXPONENTIAL,
        "branching_recursion",
    ),
    "lru_cache": (
        """
from functools import lru_cache

@lru_cache(maxsize=None)
def climb_stairs(n):
    if n <= 1:
        return 1
    return climb_stairs(n - 1) + climb_stairs(n - 2)
""",
        LINEAR,
        "memoized_recursion",
    ),
    "memo dict as a default": (
        """
def climb_stairs(n, memo={}):
    if n <= 1:
        return 1
    if n in memo:
        return memo[n]
    memo[n] = climb_stairs(n - 1) + climb_stairs(n - 2)
    return memo[n]
""",
        LINEAR,
        "memoized_recursion",
    ),
    "linear recursion slicing each level": (
        "def total(nums):\n    if not nums:\n        return 0\n    return nums[0] + total(nums[1:])\n",
        QUADRATIC,
        "recursion",
    ),
    "merge sort": (
        """
def msort(a):
    if len(a) <= 1:
        return a
    mid = len(a) // 2
    left, right = msort(a[:mid]), msort(a[mid:])
    out, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            out.append(left[i]); i += 1
        else:
            out.append(right[j]); j += 1
    return out + left[i:] + right[j:]
""",
        N_LOG_N,
        "divide_and_conquer",
    ),
    "sliding window with an inner while": (
        """
def longest_unique_substring(s):
    seen = set()
    left = best = 0
    for right in range(len(s)):
        while s[right] in seen:
            seen.remove(s[left])
            left += 1
        seen.add(s[right])
        best = max(best, right - left + 1)
    return best
""",
        LINEAR,
        "loop",
    ),
    "inner while restarted each time": (
        """
def f(nums):
    count = 0
    for i in range(len(nums)):
        j = i
        while j < len(nums):
            j += 1
            count += 1
    return count
""",
        QUADRATIC,
        "nested_loops",
    ),
    "monotonic stack": (
        """
def next_greater(nums):
    stack, out = [], [-1] * len(nums)
    for i, x in enumerate(nums):
        while stack and nums[stack[-1]] < x:
            out[stack.pop()] = x
        stack.append(i)
    return out
""",
        LINEAR,
        "loop",
    ),
    "pop(0) in a loop": (
        "def f(nums):\n    q = list(nums)\n    total = 0\n    while q:\n        total += q.pop(0)\n"
        "    return total\n",
        QUADRATIC,
        "scan_in_loop",
    ),
    "fixed-width slices": (
        """
def roman_to_int(s):
    v = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}
    total, i = 0, 0
    while i < len(s):
        if s[i:i + 2] in ('IV', 'IX', 'XL', 'XC', 'CD', 'CM'):
            total += v[s[i + 1]] - v[s[i]]
            i += 2
        else:
            total += v[s[i]]
            i += 1
    return total
""",
        LINEAR,
        "loop",
    ),
    "every substring in a set": (
        """
def longest_unique_substring(s):
    best = 0
    for i in range(len(s)):
        for j in range(i, len(s)):
            if len(set(s[i:j + 1])) == j - i + 1:
                best = max(best, j - i + 1)
    return best
""",
        CUBIC,
        "scan_in_loop",
    ),
    "a helper called in a loop": (
        """
def count_in(nums, x):
    total = 0
    for n in nums:
        if n == x:
            total += 1
    return total

def most_common(nums):
    best = nums[0]
    for x in nums:
        if count_in(nums, x) > count_in(nums, best):
            best = x
    return best
""",
        QUADRATIC,
        "nested_loops",
    ),
}


@pytest.mark.parametrize("name", list(PY_PROGRAMS))
def test_python_estimates(name: str) -> None:
    code, expected, reason = PY_PROGRAMS[name]
    found = estimate(code, "python")
    assert found is not None, name
    assert (found.time.label, found.reason) == (expected.label, reason), (name, found.detail)


def test_python_detail_names_the_loops_and_the_function_is_chosen_by_name() -> None:
    code = PY_PROGRAMS["brute-force pairs"][0] + "\ndef helper(x):\n    return x\n"
    found = estimate(code, "python", "two_sum")
    assert found is not None and found.detail == "a loop over `nums` inside a loop over `nums`"
    assert estimate(code, "python", "helper") == estimate("def helper(x):\n    return x\n", "python")
    assert found.to_json() == {
        "time": "O(n^2)",
        "reason": "nested_loops",
        "detail": "a loop over `nums` inside a loop over `nums`",
        "language": "python",
    }


def test_unreadable_code_has_no_estimate() -> None:
    assert estimate("def f(:\n    pass", "python") is None
    assert estimate("", "javascript") is None
    assert estimate("print(1)", "ruby") is None


# -------------------------------------------------------------------------- JavaScript

JS_PROGRAMS: dict[str, tuple[str, Big, str]] = {
    "constant": ("function f(a, b) { return a * b + 1; }", CONSTANT, "constant"),
    "loop of fixed length": (
        "function f(s) { const c = new Array(26).fill(0); for (let i = 0; i < 26; i++) c[i]++; return c; }",
        CONSTANT,
        "constant",
    ),
    "one pass with a Map": (
        """
const twoSum = (nums, target) => {
  const seen = new Map();
  for (let i = 0; i < nums.length; i++) {
    if (seen.has(target - nums[i])) return [seen.get(target - nums[i]), i];
    seen.set(nums[i], i);
  }
};
""",
        LINEAR,
        "loop",
    ),
    "brute-force pairs": (
        """
function twoSum(nums, target) {
  for (let i = 0; i < nums.length; i++) {
    for (let j = i + 1; j < nums.length; j++) {
      if (nums[i] + nums[j] === target) return [i, j];
    }
  }
}
""",
        QUADRATIC,
        "nested_loops",
    ),
    "indexOf inside a loop": (
        """
function twoSum(nums, target) {
  for (let i = 0; i < nums.length; i++) {
    const j = nums.indexOf(target - nums[i], i + 1);
    if (j !== -1) return [i, j];
  }
}
""",
        QUADRATIC,
        "scan_in_loop",
    ),
    "includes inside forEach": (
        "function f(a, b) { const out = [];\n"
        "  a.forEach(x => { if (b.includes(x)) out.push(x); });\n  return out; }",
        QUADRATIC,
        "scan_in_loop",
    ),
    "nested forEach": (
        "function f(nums) { let c = 0;\n  nums.forEach(a => { nums.forEach(b => { c += a * b; }); });\n"
        "  return c; }",
        QUADRATIC,
        "nested_loops",
    ),
    "triple loop without braces": (
        """
function maxSubarray(nums) {
  let best = -Infinity;
  for (let i = 0; i < nums.length; i++)
    for (let j = i; j < nums.length; j++) {
      let s = 0;
      for (let k = i; k <= j; k++) s += nums[k];
      best = Math.max(best, s);
    }
  return best;
}
""",
        CUBIC,
        "nested_loops",
    ),
    "sort then one pass": (
        """
function widestGap(nums) {
  const sorted = [...nums].sort((a, b) => a - b);
  let best = 0;
  for (let i = 1; i < sorted.length; i++) best = Math.max(best, sorted[i] - sorted[i - 1]);
  return best;
}
""",
        N_LOG_N,
        "sort",
    ),
    "sort inside a loop": (
        "function f(nums) { const out = [];\n"
        "  for (const x of nums) { out.push(x); out.sort((a, b) => a - b); }\n  return out; }",
        Big(power=2, logs=1),
        "sort_in_loop",
    ),
    "sorting each word is per element": (
        """
function groupAnagrams(words) {
  const groups = new Map();
  for (const w of words) {
    const key = [...w].sort().join("");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(w);
  }
  return [...groups.values()];
}
""",
        LINEAR,
        "loop",
    ),
    "binary search": (
        """
function binarySearch(nums, target) {
  let lo = 0, hi = nums.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (nums[mid] === target) return mid;
    if (nums[mid] < target) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}
""",
        LOG,
        "halving",
    ),
    "naive recursion": (
        "function climbStairs(n) { if (n <= 1) return 1; return climbStairs(n - 1) + climbStairs(n - 2); }",
        EXPONENTIAL,
        "branching_recursion",
    ),
    "memoised recursion": (
        """
function climbStairs(n, memo = new Map()) {
  if (n <= 1) return 1;
  if (memo.has(n)) return memo.get(n);
  const r = climbStairs(n - 1, memo) + climbStairs(n - 2, memo);
  memo.set(n, r);
  return r;
}
""",
        LINEAR,
        "memoized_recursion",
    ),
    "sliding window": (
        """
function longestUniqueSubstring(s) {
  const seen = new Set();
  let left = 0, best = 0;
  for (let right = 0; right < s.length; right++) {
    while (seen.has(s[right])) { seen.delete(s[left]); left++; }
    seen.add(s[right]);
    best = Math.max(best, right - left + 1);
  }
  return best;
}
""",
        LINEAR,
        "loop",
    ),
    "code in comments and strings is not read": (
        "// for (let i = 0; i < n; i++) { for (;;) {} }\n"
        'function f(s) { const t = "for (x of y) {}"; return s.length; }',
        CONSTANT,
        "constant",
    ),
}


@pytest.mark.parametrize("name", list(JS_PROGRAMS))
def test_javascript_estimates(name: str) -> None:
    code, expected, reason = JS_PROGRAMS[name]
    found = estimate(code, "javascript")
    assert found is not None, name
    assert (found.time.label, found.reason) == (expected.label, reason), (name, found.detail)


@pytest.mark.parametrize("problem_id", sorted(builtin_problems()))
def test_reference_solutions_match_each_problems_best_complexity(problem_id: str) -> None:
    """The project's own optimal solutions (used by the sandbox tests) read as optimal."""
    problem = builtin_problems()[problem_id]
    assert problem.complexity is not None
    best = parse_big_o(problem.complexity)
    solutions: list[tuple[Language, dict[str, str]]] = [("python", PYTHON), ("javascript", JAVASCRIPT)]
    for language, solution in solutions:
        found = estimate(solution[problem_id], language, problem.function[language])
        assert found is not None and found.time == best, (problem_id, language, found)


# ----------------------------------------------------------------------------- claims


@pytest.mark.parametrize(
    ("text", "big"),
    [
        ("O(1)", CONSTANT),
        ("O(log n)", LOG),
        ("O(n)", LINEAR),
        ("O(N)", LINEAR),
        ("O(n log n)", N_LOG_N),
        ("O(nlogn)", N_LOG_N),
        ("O(n * log(n))", N_LOG_N),
        ("O(n^2)", QUADRATIC),
        ("O(n**2)", QUADRATIC),
        ("O(n²)", QUADRATIC),
        ("O(n*n)", QUADRATIC),
        ("O(n^3)", CUBIC),
        ("O(2^n)", EXPONENTIAL),
        ("O(n!)", EXPONENTIAL),
        ("O(n + m)", LINEAR),
        ("O(k log k)", N_LOG_N),
        ("O(n·k log k)", LINEAR),  # k, a word's length, is not the input's size n
        ("Ｏ(n)", LINEAR),
        ("linear", LINEAR),
        ("quadratic", QUADRATIC),
        ("constant", CONSTANT),
        ("logarithmic", LOG),
        ("n log n", N_LOG_N),
        ("exponential", EXPONENTIAL),
        ("线性", LINEAR),
        ("平方级别", QUADRATIC),
        ("常数", CONSTANT),
        ("对数", LOG),
        ("线性对数", N_LOG_N),
        ("指数级", EXPONENTIAL),
        ("no idea", None),
    ],
)
def test_parse_big_o(text: str, big: Big | None) -> None:
    assert parse_big_o(text) == big


@pytest.mark.parametrize(
    ("text", "time", "space"),
    [
        ("It's O(n log n) time and O(1) space.", N_LOG_N, CONSTANT),
        ("Time O(n^2), space O(n).", QUADRATIC, LINEAR),
        ("time O(n) and space O(1)", LINEAR, CONSTANT),
        ("I think it's O(n) time with O(n) extra memory", LINEAR, LINEAR),
        ("time and space are both O(n)", LINEAR, LINEAR),
        ("O(n), O(1)", LINEAR, CONSTANT),
        ("It's linear.", LINEAR, None),
        ("Quadratic, because of the nested loops.", QUADRATIC, None),
        ("Lookups in the dict are constant time, so overall it's linear.", LINEAR, None),
        ("Each lookup is O(1); the whole thing is O(n) time.", LINEAR, None),
        ("时间复杂度 O(n)，空间复杂度 O(1)", LINEAR, CONSTANT),
        ("时间是线性的，空间是常数。", LINEAR, CONSTANT),
        ("I'm not sure, it loops a lot.", None, None),
    ],
)
def test_parse_claim(text: str, time: Big | None, space: Big | None) -> None:
    claim = parse_claim(text)
    assert (claim.time, claim.space) == (time, space)


def test_growth_classes_are_ordered_and_labelled() -> None:
    ladder = [CONSTANT, LOG, LINEAR, N_LOG_N, QUADRATIC, CUBIC, EXPONENTIAL]
    assert ladder == sorted(ladder)
    assert [b.label for b in ladder] == [
        "O(1)",
        "O(log n)",
        "O(n)",
        "O(n log n)",
        "O(n^2)",
        "O(n^3)",
        "O(2^n)",
    ]
    quadratic_log, blown_up = LINEAR * N_LOG_N, LINEAR * EXPONENTIAL
    assert quadratic_log == Big(power=2, logs=1) and blown_up == EXPONENTIAL
    assert all(parse_big_o(b.label) == b for b in ladder)
