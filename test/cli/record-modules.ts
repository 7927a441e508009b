// Preloaded with `node --import` by lazy-commands.test.ts: records every project module the process loads and
// writes the list (paths relative to the project root, one per line) to $PULLGATE_MODULES_OUT at exit.
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const loaded = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    if (result.url.startsWith('file:')) {
      const file = fileURLToPath(result.url);
      if (file.startsWith(root) && !file.includes('/node_modules/')) loaded.add(file.slice(root.length));
    }
    return result;
  },
});
process.on('exit', () => writeFileSync(process.env.PULLGATE_MODULES_OUT!, [...loaded].sort().join('\n')));
