import assert from "node:assert/strict";
import { charWidth, ellipsis, formatCommand, goQuote, truncateId } from "../../src/util/table.ts";

Deno.test("truncateId drops the algorithm prefix and keeps 12 characters", () => {
  const hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  assert.equal(truncateId(hex), "0123456789ab");
  assert.equal(truncateId(`sha256:${hex}`), "0123456789ab");
  assert.equal(truncateId(`sha512:${hex}`), "0123456789ab");
  assert.equal(truncateId("abc"), "abc");
  assert.equal(truncateId(""), "");
});

Deno.test("charWidth: East Asian wide and fullwidth characters take two columns", () => {
  const width = (c: string) => charWidth(c.codePointAt(0)!);
  for (const c of ["漢", "字", "あ", "한", "Ａ", "😀", "\u3000", "\u{20000}"]) {
    assert.equal(width(c), 2, c);
  }
  for (const c of ["a", " ", "é", "…", "\u0301", "ß", "Ω", "\u{10000}", "\u{e0001}"]) {
    assert.equal(width(c), 1, c);
  }
});

Deno.test("ellipsis: ASCII is cut to max - 1 characters and an ellipsis", () => {
  assert.equal(ellipsis("sh -c 'while true; do sleep 1; done'", 20), "sh -c 'while true; …");
  assert.equal(ellipsis("12345678901234567890", 20), "12345678901234567890");
  assert.equal(ellipsis("123456789012345678901", 20), "1234567890123456789…");
  assert.equal(ellipsis("", 20), "");
  assert.equal(ellipsis("abc", 2), "a…");
});

Deno.test("ellipsis: small widths", () => {
  assert.equal(ellipsis("abc", 0), "");
  assert.equal(ellipsis("abc", -1), "");
  assert.equal(ellipsis("abc", 1), "a");
  assert.equal(ellipsis("漢字", 1), "漢");
  assert.equal(ellipsis("", 1), "");
});

Deno.test("ellipsis: wide characters count two columns", () => {
  assert.equal(ellipsis("漢字漢字", 8), "漢字漢字");
  assert.equal(ellipsis("漢字漢字", 7), "漢字漢…");
  assert.equal(ellipsis("漢字漢字", 6), "漢字…"); // a wide rune does not fit the 1 column left
  assert.equal(ellipsis("a漢字漢字", 6), "a漢字…");
  assert.equal(ellipsis("café au lait", 6), "café …");
  // Docker's quirk: when even the first character overflows, the string is kept whole.
  assert.equal(ellipsis("漢字漢字", 2), "漢字漢字");
});

// Checked against Go's strconv.Quote.
Deno.test("goQuote escapes as Go's strconv.Quote", () => {
  assert.equal(goQuote(""), '""');
  assert.equal(goQuote('say "hi"\n'), String.raw`"say \"hi\"\n"`);
  assert.equal(goQuote("a\\b"), String.raw`"a\\b"`);
  assert.equal(goQuote("\x07\b\f\n\r\t\v"), String.raw`"\a\b\f\n\r\t\v"`);
  assert.equal(goQuote("\x00\x1b\x7f"), String.raw`"\x00\x1b\x7f"`);
  assert.equal(goQuote("\u00a0\u200b\u00ad"), String.raw`"\u00a0\u200b\u00ad"`);
  assert.equal(goQuote("\u{e0001}"), String.raw`"\U000e0001"`);
  assert.equal(goQuote("café 漢字 😀 \u0301x"), '"café 漢字 😀 \u0301x"');
  assert.equal(goQuote("\ufffd"), '"\ufffd"');
  assert.equal(goQuote("lone \ud800"), '"lone \ufffd"');
});

Deno.test("formatCommand builds the daemon's command line and quotes it", () => {
  assert.equal(formatCommand(["sleep", "60"], false), '"sleep 60"');
  assert.equal(formatCommand(["nginx"], false), '"nginx"');
  assert.equal(formatCommand([], false), '""');
  // Arguments with a space are single-quoted; the program never is; tabs do not count.
  assert.equal(formatCommand(["sh", "-c", "echo a b"], true), `"sh -c 'echo a b'"`);
  assert.equal(formatCommand(["/my app", "x y"], true), `"/my app 'x y'"`);
  assert.equal(formatCommand(["printf", "a\tb"], true), String.raw`"printf a\tb"`);
  assert.equal(formatCommand(["echo", ""], true), '"echo "');
});

Deno.test("formatCommand truncates to 20 columns unless noTrunc, before quoting", () => {
  const loop = ["sh", "-c", "while true; do sleep 1; done"];
  assert.equal(formatCommand(loop, false), `"sh -c 'while true; …"`);
  assert.equal(formatCommand(loop, true), `"sh -c 'while true; do sleep 1; done'"`);
  assert.equal(formatCommand(["echo", "123456789012345"], false), '"echo 123456789012345"');
  assert.equal(formatCommand(["echo", "1234567890123456"], false), '"echo 12345678901234…"');
  // Escapes are added after the cut, so they may take the quoted text past 20 characters.
  assert.equal(
    formatCommand(["printf", '"%s"\n', "one", "two", "three"], false),
    String.raw`"printf \"%s\"\n one tw…"`,
  );
  // Wide characters take two of the 20 columns.
  assert.equal(formatCommand(["echo", "漢字漢字漢字漢字漢字"], false), '"echo 漢字漢字漢字漢…"');
});
