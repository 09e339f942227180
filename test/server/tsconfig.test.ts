/**
 * Every TypeScript project of the repository, as the compiler reads it (extends resolved), stays
 * off the module resolutions TypeScript 6 deprecates and TypeScript 7 removes, without hiding
 * deprecations: `npm run typecheck` must survive the next compiler.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const SKIP = new Set(['node_modules', '.git', 'miniprogram_npm', 'dist', '.tmp']);

function tsconfigs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : tsconfigs(path.join(dir, entry.name));
    return /^tsconfig.*\.json$/.test(entry.name) ? [path.join(dir, entry.name)] : [];
  });
}

function compilerOptionsOf(file: string): ts.CompilerOptions {
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(file)).options;
}

describe('the TypeScript projects', () => {
  const files = tsconfigs(ROOT);

  it('include the server, the tests, the mini-program and the packages', () => {
    expect(files.map((file) => path.relative(ROOT, file)).sort()).toEqual(['packages/auth/tsconfig.json', 'packages/server/tsconfig.json', 'server/tsconfig.json', 'test/tsconfig.json', 'tsconfig.json']);
  });

  it.each(files.map((file) => [path.relative(ROOT, file), file]))('%s resolves modules as bundler or node16/nodenext, with no deprecation silenced', (_name, file) => {
    const options = compilerOptionsOf(file);
    expect([ts.ModuleResolutionKind.Bundler, ts.ModuleResolutionKind.Node16, ts.ModuleResolutionKind.NodeNext]).toContain(options.moduleResolution);
    expect(options.ignoreDeprecations).toBeUndefined();
  });
});
