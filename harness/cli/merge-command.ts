/**
 * `geisa-adm merge DIR... [--out DIR]`: the shards of one run (`run --shard k/n`, one CI
 * job each) joined into one results.json, with JUnit, HTML and the manifest rendered from
 * it by the same writers a run uses. The rules of the join are in reports/merge.ts.
 *
 * A shard whose results.json no longer matches its own manifest is refused: the merged
 * manifest would otherwise vouch for a file someone changed. Exit code: the merged run's
 * (the worst of the shards'), so a pipeline's merge job fails like a single run would;
 * 2 for anything that stops the merge.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RESULTS_NAME, ResultsError, readResults, writeResults } from '../reports/results.js';
import { writeJunit } from '../reports/junit.js';
import { HTML_REPORT_NAME, writeHtml } from '../reports/html.js';
import { MANIFEST_NAME, ManifestError, verifyManifest, writeManifest } from '../reports/manifest.js';
import { MergeError, type Shard, mergeResults } from '../reports/merge.js';
import { colorWanted, renderSummary } from '../reports/console-summary.js';
import { EXIT } from '../runner/exit-code.js';
import { ALL_CASES } from '../../suites/index.js';
import { prepareOutDir } from './out-dir.js';
import { UsageError } from './select.js';

export interface MergeArgs {
  dirs: string[];
  out: string;
}

function readShard(folder: string): Shard {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${folder} is not a folder: give the report folders of the shards`);
  const file = join(dir, RESULTS_NAME);
  if (!existsSync(file)) throw new UsageError(`${folder} holds no ${RESULTS_NAME}: not the report folder of a shard`);
  const results = readResults(file);
  const manifest = join(dir, MANIFEST_NAME);
  let manifestSha256: string | null = null;
  if (existsSync(manifest)) {
    let changed: boolean;
    try {
      changed = verifyManifest(dir).changed.includes(RESULTS_NAME);
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      throw new UsageError(`${folder}: ${e.message}`);
    }
    if (changed) throw new UsageError(`${folder}: ${RESULTS_NAME} differs from the shard's ${MANIFEST_NAME}: it was changed after the run, so it is not merged`);
    manifestSha256 = createHash('sha256').update(readFileSync(manifest)).digest('hex');
  }
  return { folder, results, manifestSha256 };
}

export async function mergeCommand(args: MergeArgs, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  let merged;
  let outDir: string;
  try {
    if (args.dirs.length === 0) throw new UsageError('give the report folders of the shards to merge');
    const seen = new Set<string>();
    for (const d of args.dirs) {
      if (seen.has(resolve(d))) throw new UsageError(`${d} is named twice`);
      seen.add(resolve(d));
    }
    if (seen.has(resolve(args.out))) throw new UsageError(`--out ${args.out} is one of the shards: merged reports would overwrite that shard's; give another folder`);
    const shards = args.dirs.map(readShard);
    merged = mergeResults(
      shards,
      ALL_CASES.map((c) => c.meta.id),
    );
    outDir = prepareOutDir(args.out);
  } catch (e) {
    if (e instanceof UsageError || e instanceof MergeError || e instanceof ResultsError) {
      err.write(`error: ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }

  const paths: Record<string, string> = {};
  const written: string[] = [];
  let failed = false;
  const attempt = (label: string, file: string, write: () => void) => {
    try {
      write();
      paths[label] = file;
      written.push(file);
    } catch (e) {
      err.write(`could not write ${file}: ${(e as Error).message}\n`);
      failed = true;
    }
  };
  attempt('results', join(outDir, RESULTS_NAME), () => writeResults(merged, join(outDir, RESULTS_NAME)));
  attempt('junit', join(outDir, 'junit.xml'), () => writeJunit(merged, join(outDir, 'junit.xml')));
  attempt('html', join(outDir, HTML_REPORT_NAME), () => writeHtml(merged, join(outDir, HTML_REPORT_NAME)));
  try {
    paths['manifest'] = writeManifest(outDir, written);
  } catch (e) {
    err.write(`could not write ${join(outDir, MANIFEST_NAME)}: ${(e as Error).message}\n`);
    failed = true;
  }
  out.write(`merged ${args.dirs.length} shards: ${merged.cases.length} cases\n`);
  out.write(renderSummary(merged, { color: colorWanted(out), reportPaths: paths }) + '\n');
  if (failed) return EXIT.ERROR;
  return merged.run.exitCode ?? EXIT.ERROR;
}
