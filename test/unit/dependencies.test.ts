import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/**
 * `npm start` (and any production install, `npm install --omit=dev`) runs the code in src/,
 * sandbox/ (npm start's emulators), activities/ and workflows/ with `dependencies` only. Every package that
 * code loads at run time must be listed there, not in devDependencies and not merely arrive as a
 * dependency of another package. test/, bench/ and scripts/ are development tools.
 */
const ROOT = path.join(__dirname, '..', '..');
const RUNTIME_DIRS = ['src', 'sandbox', 'activities', 'workflows'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.[cm]?[jt]s$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Module specifiers a file loads at run time: imports and re-exports that are not type-only, `require()` and `import()`. */
function runtimeSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      // Erased when compiled: `import type …`, or named imports that are all `type`.
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (!clause.name && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) literal(node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node)) {
      if (!node.isTypeOnly) literal(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (!node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference)) literal(node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      literal(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; null for relative paths and Node's own modules. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || isBuiltin(specifier)) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? null);
}

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
const usedBy = new Map<string, string[]>();
for (const file of RUNTIME_DIRS.flatMap((d) => sourceFiles(path.join(ROOT, d)))) {
  for (const name of runtimeSpecifiers(file).map(packageOf)) {
    if (name !== null) usedBy.set(name, [...(usedBy.get(name) ?? []), path.relative(ROOT, file)]);
  }
}

it('finds the packages the runtime code loads', () => {
  expect([...usedBy.keys()]).toEqual(expect.arrayContaining(['@temporalio/workflow', '@temporalio/worker', 'express', 'zod', 'yaml']));
});

it('lists every package the runtime code loads in dependencies, so a production install has it', () => {
  const missing = [...usedBy.entries()].filter(([name]) => !Object.hasOwn(manifest.dependencies ?? {}, name)).map(([name, files]) => `${name} (${[...new Set(files)].join(', ')})`);
  expect(missing).toEqual([]);
});
