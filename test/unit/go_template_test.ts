// Expected values are Go's: worked out from the text/template and fmt documentation
// (pkg.go.dev/text/template, pkg.go.dev/fmt), Go's own exec_test.go and parse_test.go cases,
// and docker/cli's templates package (templates.go, templates_test.go) for Docker's functions.
import assert from "node:assert/strict";
import {
  executeTemplate,
  goJson,
  goMap,
  goNil,
  goSprintf,
  goStruct,
  parseTemplate,
  renderTemplate,
  TemplateError,
} from "../../src/util/go_template.ts";

const r = renderTemplate;

function fails(src: string, data: unknown, message: string | RegExp) {
  assert.throws(() => r(src, data), (e: unknown) => {
    assert.ok(e instanceof TemplateError, `not a TemplateError: ${e}`);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

const doc = {
  Id: "abc123",
  Name: "/web",
  State: { Status: "running", Running: true, Pid: 42, ExitCode: 0 },
  Config: {
    Env: ["PATH=/bin", "A=b c"],
    Labels: goMap({ "com.example.b": "2", "com.example.a": "1" }, ""),
    Cmd: ["sh", "-c", "echo hi"],
  },
  Mounts: [{ Source: "/srv", Destination: "/data", RW: true }, {
    Source: "/etc",
    Destination: "/e",
    RW: false,
  }],
  HostConfig: { CapAdd: null, Memory: 268435456, NanoCpus: 500000000 },
};

Deno.test("fields, nested fields, text around actions", () => {
  assert.equal(r("{{.Id}}", doc), "abc123");
  assert.equal(r("name={{.Name}} status={{.State.Status}}", doc), "name=/web status=running");
  assert.equal(r("{{.State.Pid}} {{.State.Running}}", doc), "42 true");
  assert.equal(r("plain text", doc), "plain text");
  assert.equal(r("", doc), "");
  assert.equal(r("{{.}}", "dot"), "dot");
  assert.equal(r("{{.HostConfig.Memory}}", doc), "268435456");
});

Deno.test("Go's %v of composite values: slices, maps sorted by key, structs in order, nil", () => {
  assert.equal(r("{{.Config.Env}}", doc), "[PATH=/bin A=b c]");
  assert.equal(r("{{.Config.Labels}}", doc), "map[com.example.a:1 com.example.b:2]");
  assert.equal(r("{{.State}}", doc), "{running true 42 0}");
  assert.equal(r("{{.HostConfig.CapAdd}}", doc), "<nil>");
  assert.equal(r("{{.}}", [1, "a", true]), "[1 a true]");
  assert.equal(r("{{.}}", 1.5), "1.5");
  assert.equal(r("{{.}}", 0.00001), "1e-05");
  assert.equal(r("{{.}}", []), "[]");
});

// Go gives a chain of fields the position of its second field: ".Nope" in ".State.Nope".
Deno.test("missing keys: <no value> in Go maps, errors in structs and inspect documents", () => {
  // A map's missing key is the invalid value, printed "<no value>" (missingkey=default).
  assert.equal(r("{{.Config.Labels.nope}}", doc), "<no value>");
  // Docker's inspect retries on the raw JSON with missingkey=error.
  fails(
    "{{.Nope}}",
    doc,
    'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"',
  );
  fails(
    "x {{.State.Nope}}",
    doc,
    'template: :1:10: executing "" at <.State.Nope>: map has no entry for key "Nope"',
  );
  const ctx = goStruct("*formatter.ContainerContext", { ID: "1", Names: "web" });
  fails(
    "{{.ID}} {{.Foo}}",
    ctx,
    'template: :1:10: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext',
  );
  fails(
    "{{.Names.X}}",
    ctx,
    'template: :1:8: executing "" at <.Names.X>: can\'t evaluate field X in type string',
  );
  fails(
    "{{.HostConfig.CapAdd.X}}",
    doc,
    'template: :1:13: executing "" at <.HostConfig.CapAdd.X>: nil pointer evaluating interface {}.X',
  );
  // Line and column of an error on a later line.
  fails(
    "a\nb {{.Nope}}",
    doc,
    'template: :2:4: executing "" at <.Nope>: map has no entry for key "Nope"',
  );
});

Deno.test("goNil: a nil slice prints [] and a nil map map[], json writes null", () => {
  const data = { S: goNil("slice"), M: goNil("map", ""), E: [], P: null };
  assert.equal(r("{{.S}} {{json .S}} {{.E}} {{json .E}}", data), "[] null [] []");
  assert.equal(r('{{.M}} {{json .M}} {{index .M "k"}}|{{.M.k}}', data), "map[] null |<no value>");
  assert.equal(
    r("{{len .S}} {{len .M}} {{if .S}}y{{else}}n{{end}}{{range .S}}x{{end}}", data),
    "0 0 n",
  );
  assert.equal(r("{{.P}}", data), "<nil>"); // a nil pointer
  assert.equal(goJson(data), '{"S":null,"M":null,"E":[],"P":null}');
});

Deno.test("methods of a struct: with and without arguments", () => {
  const ctx = goStruct("*formatter.ContainerContext", {
    Names: () => "web",
    Label: (k: unknown) => ({ a: "1" } as Record<string, string>)[k as string] ?? "",
  });
  assert.equal(r(`{{.Names}} {{.Label "a"}} [{{.Label "b"}}]`, ctx), "web 1 []");
  assert.equal(r(`{{"a" | .Label}}`, ctx), "1");
  assert.equal(r("{{json .}}", ctx), '{"Names":"web"}');
});

Deno.test("json: Docker's json function, no HTML escaping, maps sorted, structs in order", () => {
  assert.equal(r("{{json .Config.Env}}", doc), '["PATH=/bin","A=b c"]');
  assert.equal(r("{{json .Config.Labels}}", doc), '{"com.example.a":"1","com.example.b":"2"}');
  assert.equal(
    r("{{json .State}}", doc),
    '{"Status":"running","Running":true,"Pid":42,"ExitCode":0}',
  );
  assert.equal(r("{{json .}}", "<a&b>"), '"<a&b>"');
  assert.equal(r("{{json .HostConfig.CapAdd}}", doc), "null");
  assert.equal(r("{{.Config.Env | json}}", doc), '["PATH=/bin","A=b c"]');
  assert.equal(goJson("\u2028"), '"\\u2028"');
});

Deno.test("range over slices, maps (sorted keys), integers; else; variables", () => {
  assert.equal(r("{{range .Mounts}}{{.Source}} {{end}}", doc), "/srv /etc ");
  assert.equal(
    r("{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}};{{end}}", doc),
    "0=/data;1=/e;",
  );
  assert.equal(r("{{range $e := .Config.Env}}<{{$e}}>{{end}}", doc), "<PATH=/bin><A=b c>");
  assert.equal(
    r("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", doc),
    "com.example.a=1,com.example.b=2,",
  );
  assert.equal(r("{{range .}}x{{else}}empty{{end}}", []), "empty");
  assert.equal(r("{{range .HostConfig.CapAdd}}x{{else}}none{{end}}", doc), "none");
  assert.equal(r("{{range 3}}{{.}}{{end}}", null), "012"); // Go 1.22: range over an int
  // Inside range, $ is still the top-level data.
  assert.equal(r("{{range .Mounts}}{{$.Id}}{{end}}", doc), "abc123abc123");
  fails("{{range .Id}}{{end}}", doc, /range can't iterate over abc123/);
});

Deno.test("break and continue in range", () => {
  assert.equal(
    r("{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", [1, 2, 3, 4]),
    "12",
  );
  assert.equal(
    r("{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", [1, 2, 3]),
    "13",
  );
  assert.throws(() => parseTemplate("{{break}}"), /{{break}} outside {{range}}/);
});

Deno.test("if, else, else if, with", () => {
  assert.equal(r("{{if .State.Running}}up{{else}}down{{end}}", doc), "up");
  assert.equal(r("{{if .HostConfig.CapAdd}}caps{{else}}none{{end}}", doc), "none");
  assert.equal(r("{{if eq .State.Pid 1}}a{{else if eq .State.Pid 42}}b{{else}}c{{end}}", doc), "b");
  assert.equal(r("{{if 0}}a{{else if ``}}b{{else}}c{{end}}", null), "c");
  assert.equal(r("{{with .State}}{{.Status}}{{end}}", doc), "running");
  assert.equal(r("{{with .HostConfig.CapAdd}}x{{else}}no caps{{end}}", doc), "no caps");
  assert.equal(r("{{with $s := .State.Status}}{{$s}}!{{end}}", doc), "running!");
  // Truth: empty string, 0, empty slice and nil are false; a struct is true.
  assert.equal(r(`{{if ""}}t{{else}}f{{end}}{{if .}}t{{end}}`, { a: 1 }), "ft");
  assert.equal(r("{{if .}}t{{else}}f{{end}}", goMap({})), "f");
});

Deno.test("variables: declaration, assignment, scope ends with the block", () => {
  assert.equal(r("{{$x := .Id}}{{$x}}-{{$x}}", doc), "abc123-abc123");
  assert.equal(r("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", null), "2");
  assert.equal(r("{{$}}", "root"), "root");
  assert.equal(r("{{$x := .}}{{$x.State.Status}}", doc), "running");
  assert.throws(() => parseTemplate("{{if true}}{{$y := 1}}{{end}}{{$y}}"), {
    message: 'template: :1: undefined variable "$y"',
  });
  assert.throws(() => parseTemplate("{{$z}}"), {
    message: 'template: :1: undefined variable "$z"',
  });
});

Deno.test("pipelines pass the value as the last argument", () => {
  assert.equal(r(`{{.Id | printf "%s-%s" "x"}}`, doc), "x-abc123");
  assert.equal(r("{{.Name | upper | lower}}", doc), "/web");
  // The piped value comes last: split "," "a,b" is strings.Split(",", "a,b"), one element.
  assert.equal(r(`{{"a,b" | split "," | len}}`, null), "1");
});

Deno.test("parenthesised pipelines and chains on them", () => {
  assert.equal(r(`{{(index .Mounts 1).Source}}`, doc), "/etc");
  assert.equal(r(`{{len (split "a,b,c" ",")}}`, null), "3");
  assert.equal(r(`{{printf "%d" (len .Mounts)}}`, doc), "2");
});

Deno.test("comparison functions", () => {
  assert.equal(r("{{eq 1 1}} {{eq 1 2}} {{eq 1 2 1}} {{ne 1 2}}", null), "true false true true");
  assert.equal(
    r(`{{eq "a" "a"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}`, null),
    "true true true true false",
  );
  assert.equal(r("{{eq .State.Status `running`}}", doc), "true");
  fails(
    `{{eq 1 "a"}}`,
    null,
    'template: :1:2: executing "" at <eq>: error calling eq: incompatible types for comparison',
  );
  fails(`{{lt true false}}`, null, /error calling lt: invalid type for comparison/);
  fails(`{{eq 1}}`, null, /error calling eq: missing argument for comparison/);
});

Deno.test("and, or, not: values, not booleans, and short-circuit", () => {
  assert.equal(r(`{{and 1 "x"}} {{and 0 "x"}} {{or "" "y"}} {{or 0 ""}}`, null), "x 0 y ");
  assert.equal(r("{{not 0}} {{not .}}", "x"), "true false");
  // The missing key is never evaluated: and stops at the first false value.
  assert.equal(r("{{and false .Nope}}", doc), "false");
  assert.equal(r("{{or true .Nope}}", doc), "true");
});

Deno.test("len, index, slice", () => {
  assert.equal(r("{{len .Config.Env}} {{len .Config.Labels}} {{len .Id}}", doc), "2 2 6");
  assert.equal(r(`{{len "héllo"}}`, null), "6"); // bytes, as Go's len
  assert.equal(r(`{{index .Config.Labels "com.example.a"}}`, doc), "1");
  // index of a missing key is the map's zero value: "" for Docker's map[string]string labels.
  assert.equal(r(`[{{index .Config.Labels "nope"}}]`, doc), "[]");
  assert.equal(r("{{index .Config.Cmd 2}}", doc), "echo hi");
  assert.equal(r("{{index . 1 0}}", [[1], [2, 3]]), "2");
  fails("{{index .Config.Cmd 5}}", doc, /error calling index: index out of range: 5/);
  assert.equal(r("{{slice .Config.Cmd 1}}", doc), "[-c echo hi]");
  assert.equal(r(`{{slice "abcdef" 1 3}}`, null), "bc");
});

Deno.test("print, println, printf", () => {
  // Sprint puts a space between operands when neither is a string.
  assert.equal(r(`{{print 1 2 "a" "b" 3}}`, null), "1 2ab3");
  assert.equal(r(`{{println "a" 1}}`, null), "a 1\n");
  assert.equal(
    r(`{{printf "%s=%d %v %q %t" "a" 5 .Config.Env "x\ty" true}}`, doc),
    'a=5 [PATH=/bin A=b c] "x\\ty" true',
  );
  assert.equal(
    r(`{{printf "%-6s|%6s|%05d|%x|%X|%.2f|%%" "ab" "cd" 42 255 255 3.14159}}`, null),
    "ab    |    cd|00042|ff|FF|3.14|%",
  );
  assert.equal(goSprintf("%d", ["x"]), "%!d(string=x)");
  assert.equal(goSprintf("%s", [5]), "%!s(int=5)");
  assert.equal(goSprintf("%s %s", ["a"]), "a %!s(MISSING)");
  assert.equal(goSprintf("%s", ["a", 1]), "a%!(EXTRA int=1)");
  assert.equal(goSprintf("%v|%v", [null, true]), "<nil>|true");
});

Deno.test("Docker's functions: join split lower upper title truncate pad", () => {
  assert.equal(r(`{{join .Config.Cmd " "}}`, doc), "sh -c echo hi");
  assert.equal(r(`{{join .Config.Labels ","}}`, doc), "1,2"); // a map's values, sorted
  assert.equal(r(`{{split "a:b:c" ":"}}`, null), "[a b c]");
  assert.equal(r(`{{index (split .Name "/") 1}}`, doc), "web");
  assert.equal(
    r(`{{lower "ABC"}} {{upper "abc"}} {{title "hello wide-world"}}`, null),
    "abc ABC Hello Wide-World",
  );
  assert.equal(r(`{{truncate "abcdef" 3}}|{{truncate "ab" 3}}`, null), "abc|ab");
  assert.equal(r(`[{{pad "x" 1 2}}][{{pad "" 1 2}}]`, null), "[ x  ][]");
  fails(`{{lower 5}}`, null, /wrong type for value; expected string; got int/);
  fails(`{{json 1 2}}`, null, /wrong number of args for json: want 1 got 2/);
});

Deno.test("trim markers and comments", () => {
  assert.equal(r("a  {{- .Id -}}  b", doc), "aabc123b");
  assert.equal(r("a\n  {{- .Id}}\n", doc), "aabc123\n");
  assert.equal(r("{{range .Mounts}}\n  {{- .Source}}\n{{- end}}", doc), "/srv/etc");
  assert.equal(r("a {{/* a comment */}}b", doc), "a b");
  assert.equal(r("a {{- /* trimmed */ -}} b", doc), "ab");
  assert.equal(r("{{-3}}", null), "-3"); // no space: a negative number, not a trim marker
});

Deno.test("literals: strings, raw strings, characters, numbers, booleans", () => {
  assert.equal(r(`{{"a\\tb\\u00e9"}}`, null), "a\tbé");
  assert.equal(r("{{`raw\\n`}}", null), "raw\\n");
  assert.equal(r("{{'a'}}", null), "97");
  assert.equal(r("{{0x1F}} {{017}} {{1_000}} {{1e3}} {{true}}", null), "31 15 1000 1000 true");
});

Deno.test("parse errors: Go's messages with the line", () => {
  const parseFails = (src: string, message: string) =>
    assert.throws(() => parseTemplate(src), { message });
  parseFails("{{.Id", "template: :1: unclosed action");
  parseFails("{{if .A}}x", "template: :1: unexpected EOF");
  parseFails("{{end}}", "template: :1: unexpected {{end}}");
  parseFails("{{else}}", "template: :1: unexpected {{else}}");
  parseFails("{{nope .}}", 'template: :1: function "nope" not defined');
  parseFails("a\n{{if}}{{end}}", "template: :2: missing value for if");
  parseFails("{{}}", "template: :1: missing value for command");
  parseFails("{{.A @}}", "template: :1: unrecognized character in action: U+0040 '@'");
  parseFails('{{"abc}}', "template: :1: unterminated quoted string");
  parseFails("{{range .}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}");
  parseFails("{{/* x }}", "template: :1: unclosed comment");
});

Deno.test("execution errors: arguments given to non-functions", () => {
  fails(`{{.Id "x"}}`, doc, /executing "" at <.Id>: Id is not a method but has arguments/);
  fails(`{{"a" 1}}`, null, /can't give argument to non-function "a"/);
  fails("{{nil}}", null, /nil is not a command/);
});

Deno.test("header functions replace Docker's functions for a table's header", () => {
  const t = parseTemplate(`{{upper .Names}}\t{{json .ID}}`);
  const header = goMap({ Names: "NAMES", ID: "CONTAINER ID" });
  const identity = (v: unknown) => v;
  assert.equal(
    executeTemplate(t, header, { functions: { upper: identity, json: identity } }),
    "NAMES\tCONTAINER ID",
  );
});
