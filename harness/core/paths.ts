// Absolute paths of the project's top-level folders, so modules never depend on the current directory.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const rootDir = fileURLToPath(new URL('../../', import.meta.url));
export const specsDir = fileURLToPath(new URL('../../specs/', import.meta.url));
export const referenceDir = fileURLToPath(new URL('../../reference/', import.meta.url));
export const loadDir = fileURLToPath(new URL('../../load/', import.meta.url));

/**
 * True when this copy of sdgrade was installed into another project (it lives under a node_modules folder) rather
 * than being a checkout of this repository. Results then belong to the user's project, not to the package.
 */
export const installedAsDependency = /[\\/]node_modules[\\/]/.test(rootDir);

/**
 * Where runs are written: `$SDGRADE_RESULTS_DIR`; else, installed as a dependency, `results/` in the directory the
 * command runs in (the user's project); else the checkout's own `results/`.
 */
export const resultsDir = process.env.SDGRADE_RESULTS_DIR
  ? `${process.env.SDGRADE_RESULTS_DIR.replace(/[\\/]+$/, '')}/`
  : installedAsDependency
    ? join(process.cwd(), 'results/')
    : fileURLToPath(new URL('../../results/', import.meta.url));

/**
 * How to tell a person to run the CLI: in a checkout, the checkout's own entry point (npx would ask the registry for
 * the project's name); in a project that installed the package, npx finds the installed copy.
 */
// <!-- installed-package:start -->
export const cliCommand = installedAsDependency ? 'npx sdgrade' : 'node bin/sdgrade.js';
// <!-- installed-package:end -->

export function specFile(slug: string, name = 'openapi.yaml'): string {
  return fileURLToPath(new URL(`../../specs/${slug}/${name}`, import.meta.url));
}
