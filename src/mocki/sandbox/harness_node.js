// Runs inside the sandbox as harness.js: loads solution.cjs, calls the function once per test.
// (.cjs: always CommonJS, so Node never guesses a module type from the candidate's syntax.)
// Each result goes to fd 3 as one line `<nonce> <json>`, apart from the candidate's stdout and
// stderr. Return values go out, never expected ones come in: the api judges.
"use strict";
const fs = require("fs");
const path = require("path");

const RESULT_FD = 3;
const MAX_LINE = 64 * 1024;
const SOLUTION = path.resolve("solution.cjs");
const [nonce, name] = process.argv.slice(2);

// Node queues pipe writes in memory once the pipe is full and drops the queue on exit: blocking
// writes keep the output budget honest and every line printed before the end.
for (const stream of [process.stdout, process.stderr]) {
  if (stream._handle && typeof stream._handle.setBlocking === "function") stream._handle.setBlocking(true);
}

function write(payload) {
  fs.writeSync(RESULT_FD, `${nonce} ${JSON.stringify(payload)}\n`);
}

function lineOf(err) {
  const stack = err && typeof err.stack === "string" ? err.stack : "";
  const match = stack.match(/solution\.cjs:(\d+)/);
  return match ? Number(match[1]) : null;
}

function describe(err) {
  const isError = err instanceof Error;
  return {
    type: isError ? err.name : typeof err,
    message: String(isError ? err.message : err).slice(0, 500),
    line: isError ? lineOf(err) : null,
  };
}

function encodeValue(value) {
  let text;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    return { ok: false, error: { type: "TypeError", message: `return value: ${err.message}`, line: null } };
  }
  if (text === undefined) {
    return { ok: false, error: { type: "TypeError", message: "return value is not JSON", line: null } };
  }
  if (text.length > MAX_LINE) {
    const message = `return value is ${text.length} characters of JSON; at most ${MAX_LINE}`;
    return { ok: false, error: { type: "RangeError", message, line: null } };
  }
  return { ok: true, value: JSON.parse(text) };
}

async function main() {
  const tests = JSON.parse(fs.readFileSync("tests.json", "utf8"));
  let fn;
  try {
    fn = require(SOLUTION)[name];
    if (typeof fn !== "function") {
      throw new ReferenceError(`the solution must define a function named ${name}`);
    }
  } catch (err) {
    write({ load_error: describe(err) });
    return;
  }
  for (let i = 0; i < tests.length; i++) {
    const started = process.hrtime.bigint();
    let outcome;
    try {
      let value = fn(...tests[i]);
      if (value && typeof value.then === "function") value = await value;
      outcome = encodeValue(value);
    } catch (err) {
      outcome = { ok: false, error: describe(err) };
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    write({ i, ms: Math.round(ms * 1000) / 1000, ...outcome });
  }
  write({ done: true });
}

// Leave as soon as the tests ran: timers the submission left behind must not hold the run open.
main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`harness: ${err && err.stack}\n`);
    process.exit(1);
  },
);
