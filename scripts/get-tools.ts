// Gets k6 and toxiproxy-server (from $SDGRADE_K6/$SDGRADE_TOXIPROXY, PATH, the cache, or a one-time build), and the
// pinned Python tools (Schemathesis, openapi-spec-validator, openapi-python-client, boto3, in a virtual environment
// in the cache), so that tests never build or install anything. CI runs this before the tests: `npm run get-tools`.
// `--seaweedfs` also builds chapter 25's peer (SeaweedFS, several minutes; `sdgrade bench 25` skips it otherwise).
import { findK6 } from '../harness/tools/k6.ts';
import { findPythonTools } from '../harness/tools/python-tools.ts';
import { buildSeaweedfs } from '../harness/tools/seaweedfs.ts';
import { toolBinDir } from '../harness/tools/tool-cache.ts';
import { findToxiproxy } from '../harness/tools/toxiproxy.ts';

const describe = {
  env: 'from the environment variable',
  path: 'from PATH',
  cache: 'from the cache',
  built: 'built now',
};

async function main(): Promise<number> {
  console.log(`sdgrade tool cache: ${toolBinDir()}`);
  // Sequential on purpose: two Go builds at once on a 2-core machine are no faster than one after the other.
  for (const [label, find] of [
    ['toxiproxy-server', findToxiproxy],
    ['k6', findK6],
  ] as const) {
    try {
      const tool = await find({ build: true, onProgress: (line) => console.log(line) });
      console.log(`${label} ${tool.version}: ${tool.path} (${describe[tool.source]})`);
    } catch (err) {
      console.error(`${label}: ${(err as Error).message}`);
      return 1;
    }
  }
  try {
    const tools = await findPythonTools({ install: true, onProgress: (line) => console.log(line) });
    console.log(`Python outside tools: ${tools.venv}`);
  } catch (err) {
    console.error(`Python outside tools: ${(err as Error).message}`);
    return 1;
  }
  if (process.argv.includes('--seaweedfs')) {
    try {
      const weed = await buildSeaweedfs((line) => console.log(line));
      console.log(`SeaweedFS ${weed.version}: ${weed.path}`);
    } catch (err) {
      console.error(`SeaweedFS: ${(err as Error).message}`);
      return 1;
    }
  }
  return 0;
}

process.exitCode = await main();
