// Unit tests of the code panel's helpers: the answer it submits and how test values are shown.
import { describe, expect, it } from "vitest";

import { fenced, formatCall, formatValue } from "./CodePanel";

describe("fenced", () => {
  it("wraps the code in a fence tagged with its language, trailing blanks trimmed", () => {
    expect(fenced("python", "def f(x):\n    return x\n\n")).toBe("```python\ndef f(x):\n    return x\n```");
    expect(fenced("javascript", "const f = (x) => x;")).toBe("```javascript\nconst f = (x) => x;\n```");
  });
});

describe("formatValue", () => {
  it("writes JSON values as each language does", () => {
    expect(formatValue([true, false, null, 2], "python")).toBe("[True,False,None,2]");
    expect(formatValue([true, false, null, 2], "javascript")).toBe("[true,false,null,2]");
  });

  it("leaves strings that contain those words alone", () => {
    expect(formatValue(["true", "no null here"], "python")).toBe('["true","no null here"]');
  });

  it("formats a call with its arguments", () => {
    expect(formatCall("two_sum", [[3, 9], 12], "python")).toBe("two_sum([3,9], 12)");
    expect(formatCall("isValid", ["()"], "javascript")).toBe('isValid("()")');
    expect(formatCall("f", null, "python")).toBe("f()");
  });
});
