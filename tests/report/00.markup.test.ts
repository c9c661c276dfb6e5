// The checker the SVG and HTML tests rely on must itself reject what it should.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkMarkup } from "./markup.js";

test("report - the markup checker accepts well-formed SVG and counts elements", () => {
  const c = checkMarkup(`<svg xmlns="x"><g a="1 &amp; 2"><polyline points="1,2 3,4"/><text>a &lt; b</text></g></svg>`);
  assert.equal(c.get("polyline"), 1);
  assert.equal(c.get("text"), 1);
});

test("report - the markup checker rejects unbalanced tags, raw < and bad entities, unquoted attributes", () => {
  for (const bad of [
    `<svg><g></svg>`,
    `<svg><text>a < b</text></svg>`,
    `<svg><text>a & b</text></svg>`,
    `<svg><g a=1></g></svg>`,
    `<svg><g a="x<y"></g></svg>`,
    `<svg></svg><svg></svg>`,
    `<svg><g a="1" a="2"></g></svg>`,
    `<svg><g></g>`,
  ]) {
    assert.throws(() => checkMarkup(bad), { name: "MarkupError" }, bad);
  }
});

test("report - the markup checker in HTML mode knows void elements and skips <style>", () => {
  const page = `<!doctype html>\n<html><head><meta charset="utf-8"><style>a > b { color: red }</style></head><body><p>x<br>y</p></body></html>\n`;
  assert.equal(checkMarkup(page, { html: true }).get("meta"), 1);
  assert.throws(() => checkMarkup(`<html><body></body></html>`, { html: true }), /doctype/);
  assert.throws(() => checkMarkup(`<!doctype html><html><body><p></body></html>`, { html: true }), /closes/);
});
