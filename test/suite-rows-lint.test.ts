/**
 * Every check and failure in a case file names the catalog row it judges, and that row is
 * one the case cites: read from the source with the TypeScript parser, so a check that
 * names no row (or another case's row) is caught before any run. Also: no case keeps the
 * fixed budget of old.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ALL_CASES } from '../suites/index.js';

const AREAS = ['bootstrap', 'registration', 'retry', 'coap', 'security', 'est'];
const files = AREAS.flatMap((a) =>
  readdirSync(join('suites', a))
    .filter((f) => /^TC-.*\.ts$/.test(f))
    .map((f) => join('suites', a, f)),
);

/**
 * The row ids a `req` expression names: a string literal, { row: '...' }, a const holding
 * either, or `cond ? a : b` of those (both rows must be cited). undefined: no row named.
 */
function rowOf(expr: ts.Expression, consts: Map<string, ts.Expression>): string | undefined {
  let e = expr;
  while (ts.isAsExpression(e) || ts.isParenthesizedExpression(e)) e = e.expression;
  if (ts.isStringLiteralLike(e)) return e.text;
  if (ts.isConditionalExpression(e)) {
    const a = rowOf(e.whenTrue, consts);
    const b = rowOf(e.whenFalse, consts);
    return a && b ? `${a}|${b}` : undefined;
  }
  if (ts.isIdentifier(e) && consts.has(e.text)) return rowOf(consts.get(e.text)!, consts);
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && consts.has(e.expression.text)) {
    const obj = consts.get(e.expression.text)!;
    if (ts.isObjectLiteralExpression(obj)) {
      const prop = obj.properties.find((p) => ts.isPropertyAssignment(p) && p.name.getText() === e.name.text);
      if (prop && ts.isPropertyAssignment(prop)) return rowOf(prop.initializer, consts);
    }
  }
  if (ts.isObjectLiteralExpression(e)) {
    const row = e.properties.find((p) => ts.isPropertyAssignment(p) && p.name.getText() === 'row');
    if (row && ts.isPropertyAssignment(row)) return rowOf(row.initializer, consts);
  }
  return undefined;
}

interface Finding {
  file: string;
  line: number;
  call: string;
  row: string | undefined;
}

function scan(file: string): { findings: Finding[]; fixedBudget: boolean } {
  const text = readFileSync(file, 'utf8');
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const consts = new Map<string, ts.Expression>();
  const findings: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) consts.set(node.name.text, node.initializer);
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ts.isIdentifier(node.expression.expression) && node.expression.expression.text === 't') {
      const method = node.expression.name.text;
      const line = src.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      const first = node.arguments[0];
      if ((method === 'check' || method === 'fail') && first) {
        // The deprecated forms: check(name, ok, detail) and fail(reason) judge no named row.
        const named = method === 'check' ? node.arguments.length === 4 : node.arguments.length === 2;
        findings.push({ file, line, call: `t.${method}`, row: named ? rowOf(first, consts) : undefined });
      }
      if (method === 'checkTiming' && first && ts.isObjectLiteralExpression(first)) {
        const req = first.properties.find((p) => ts.isPropertyAssignment(p) && p.name.getText() === 'req');
        findings.push({ file, line, call: 't.checkTiming', row: req && ts.isPropertyAssignment(req) ? rowOf(req.initializer, consts) : undefined });
      }
    }
    ts.forEachChild(node, visit);
  };
  // Two passes: a const may be declared after the function that uses it.
  visit(src);
  findings.length = 0;
  visit(src);
  return { findings, fixedBudget: /\bfixedBudget\(/.test(text) };
}

describe('check-level requirements in the case files', () => {
  test('every case file is scanned', () => {
    expect(files.length).toBe(ALL_CASES.length);
  });

  test.each(files)('%s: every t.check, t.checkTiming and t.fail names a row the case cites', (file) => {
    const { findings } = scan(file);
    const id = /TC-[A-Z]+-\d{2}/.exec(file)![0];
    const cited = new Set(ALL_CASES.find((c) => c.meta.id === id)!.meta.requirements.map((r) => r.id));
    const bad = findings
      .filter((f) => f.row === undefined || !f.row.split('|').every((r) => cited.has(r)))
      .map((f) => `${f.file}:${f.line} ${f.call} ${f.row === undefined ? 'names no row' : `names ${f.row}, not cited by ${id} (${[...cited].join(', ')})`}`);
    expect(bad).toEqual([]);
  });

  test('no case keeps a fixed budget: each budget is a function of the device timers', () => {
    expect(files.filter((f) => scan(f).fixedBudget)).toEqual([]);
  });
});
