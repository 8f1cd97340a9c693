#!/usr/bin/env node
// `npm run deploy:web -- --bucket <name> [--distribution <id>]`: puts the built web app in its S3 bucket behind
// CloudFront. Hashed assets go first and are cached for a year; index.html goes last and is revalidated, so a
// visitor never gets a page whose scripts are missing. Assets of earlier deploys stay (an open tab still loads
// the chunks its page names). With a distribution, CloudFront is told to forget only the unhashed files.
// Run with --help for every option.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureWebBuilt } from './lib/setup.mjs';
import { ROOT } from './lib/system.mjs';
import { formatBytes, invalidationPaths, isHashedAsset, planUpload } from './lib/web-assets.mjs';

const USAGE = `Usage: npm run deploy:web -- --bucket <name> [options]

Uploads the built web app to an S3 bucket: hashed assets first (Cache-Control: public, max-age=31536000,
immutable), then the other files, index.html last (no-cache). Assets of earlier deploys are kept.

  --bucket <name>            the web bucket (required)
  --distribution <id>        CloudFront distribution: invalidate "/" and the unhashed files (/index.html, …)
                             once the upload is done, and wait until CloudFront has applied it
  --prefix <path>            key prefix in the bucket, when the distribution's origin has that origin path
  --region <region>          the bucket's region (default: AWS_REGION or the profile's region)
  --dist <dir>               upload this build as it is (default: web/dist, built first if missing or stale)
  --path-style               path-style requests, for an S3-compatible server (also: S3_FORCE_PATH_STYLE=true)
  --prune-older-than <days>  afterwards, delete hashed assets this build does not use, last written more
                             than <days> days ago (keep at least a day: open tabs still load them)
  --no-wait                  start the invalidation without waiting for it
  --dry-run                  print what would be uploaded, with its headers; send nothing
  -h, --help                 this text

Credentials and region come from the standard AWS chain (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID …).
AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_CLOUDFRONT send the requests to other endpoints.`;

const HELP_HINT = 'Every option: npm run deploy:web -- --help';

/** A failure with a sentence for the person at the terminal: printed as is, no stack trace, exit code 1. */
class DeployError extends Error {}

/** Upload this many files at a time: enough to hide request latency, few enough not to be throttled. */
const PARALLEL_UPLOADS = 8;
/** An invalidation usually completes within a few minutes; waiting longer than this means something is wrong. */
const INVALIDATION_TIMEOUT_MS = 15 * 60_000;

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        bucket: { type: 'string' },
        distribution: { type: 'string' },
        prefix: { type: 'string', default: '' },
        region: { type: 'string' },
        dist: { type: 'string' },
        'path-style': { type: 'boolean', default: false },
        'prune-older-than': { type: 'string' },
        'no-wait': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new DeployError(`${err.message.replace(/[.\s]*$/, '')}. ${HELP_HINT}`);
  }
  if (values.help) return { help: true };
  if (!values.bucket) throw new DeployError(`--bucket is required: npm run deploy:web -- --bucket <name of the web bucket>. ${HELP_HINT}`);
  let pruneDays;
  if (values['prune-older-than'] !== undefined) {
    pruneDays = Number(values['prune-older-than']);
    if (!Number.isFinite(pruneDays) || pruneDays < 0) throw new DeployError(`--prune-older-than takes a number of days, such as 30 (got "${values['prune-older-than']}").`);
  }
  return {
    bucket: values.bucket,
    distribution: values.distribution,
    prefix: values.prefix.replace(/^\/+|\/+$/g, ''),
    region: values.region,
    dist: values.dist,
    pathStyle: values['path-style'] || process.env.S3_FORCE_PATH_STYLE === 'true',
    pruneDays,
    wait: !values['no-wait'],
    dryRun: values['dry-run'],
  };
}

/** The build to upload: --dist as given, or web/dist brought up to date the way npm start does it. */
function buildDirectory(opts) {
  const dir = opts.dist ? resolve(opts.dist) : join(ROOT, 'web', 'dist');
  if (!opts.dist) ensureWebBuilt();
  if (!existsSync(join(dir, 'index.html'))) {
    throw new DeployError(
      opts.dist
        ? `${dir} has no index.html: point --dist at a built web app (npm run build -w web builds web/dist).`
        : `The web build left no ${dir}/index.html; see the messages above.`,
    );
  }
  return dir;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Runs fn over items, at most `limit` at once; the first failure rejects once the others in flight have ended. */
async function inParallel(items, limit, fn) {
  let next = 0;
  let failure = null;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure;
}

/** The objects already under a key prefix: key → { size, lastModified }. */
async function listObjects(s3, sdk, bucket, prefix) {
  const found = new Map();
  let token;
  do {
    const page = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) found.set(o.Key, { size: o.Size, lastModified: o.LastModified?.getTime() ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

async function deploy(opts, progress) {
  const dir = buildDirectory(opts);
  const plan = planUpload(dir);
  const keyOf = (path) => (opts.prefix ? `${opts.prefix}/${path}` : path);
  const totalBytes = plan.reduce((n, f) => n + f.size, 0);
  const where = `s3://${opts.bucket}/${opts.prefix ? `${opts.prefix}/` : ''}`;
  const builtAgo = Math.round((Date.now() - statSync(join(dir, 'index.html')).mtimeMs) / 60_000);
  const shown = relative(process.cwd(), dir);
  console.log(
    `Deploying ${shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : dir} (${plan.length} files, ${formatBytes(totalBytes)}, built ${builtAgo} min ago) to ${where}`,
  );

  if (opts.dryRun) {
    for (const f of plan) console.log(`  ${f.path}  ${formatBytes(f.size)}  Content-Type: ${f.contentType}  Cache-Control: ${f.cacheControl}`);
    if (opts.distribution) console.log(`Would invalidate ${invalidationPaths(plan).join(' ')} in CloudFront distribution ${opts.distribution}.`);
    console.log('Dry run: nothing was sent.');
    return;
  }

  const sdk = await import('@aws-sdk/client-s3');
  const s3 = new sdk.S3Client({ region: opts.region, forcePathStyle: opts.pathStyle });
  // The first request: wrong credentials, region or bucket name stop the deploy here, before anything is written.
  progress.stage = 'list';
  const existing = await listObjects(s3, sdk, opts.bucket, keyOf('assets/'));

  progress.stage = 'upload';
  const started = Date.now();
  let done = 0;
  let sentBytes = 0;
  let unchanged = 0;
  const report = (f, what) => console.log(`  [${String(++done).padStart(String(plan.length).length)}/${plan.length}] ${what.padStart(10)}  ${f.path}`);
  const upload = async (f) => {
    // A hashed name is its content: the same name and size in the bucket is the same file.
    if (f.immutable && existing.get(keyOf(f.path))?.size === f.size) {
      unchanged++;
      return report(f, 'unchanged');
    }
    try {
      await s3.send(new sdk.PutObjectCommand({ Bucket: opts.bucket, Key: keyOf(f.path), Body: readFileSync(f.file), ContentType: f.contentType, CacheControl: f.cacheControl }));
    } catch (err) {
      progress.failedFile ??= f.path;
      throw err;
    }
    sentBytes += f.size;
    report(f, formatBytes(f.size));
  };
  await inParallel(
    plan.filter((f) => f.immutable),
    PARALLEL_UPLOADS,
    upload,
  );
  await inParallel(
    plan.filter((f) => !f.immutable && f.path !== 'index.html'),
    PARALLEL_UPLOADS,
    upload,
  );
  await upload(plan.find((f) => f.path === 'index.html'));
  console.log(
    `✔ Uploaded ${plan.length - unchanged} files (${formatBytes(sentBytes)}) in ${seconds(started)}${unchanged ? `; ${unchanged} hashed assets were already there` : ''}.`,
  );

  if (opts.pruneDays !== undefined) await prune(s3, sdk, opts, existing, new Set(plan.map((f) => keyOf(f.path))), progress);
  if (opts.distribution) await invalidate(opts, invalidationPaths(plan), progress);
}

/** Deletes hashed assets no longer part of the build once they are old enough that no open tab needs them. */
async function prune(s3, sdk, opts, existing, current, progress) {
  progress.stage = 'prune';
  const cutoff = Date.now() - opts.pruneDays * 86_400_000;
  const assetKey = (key) => (opts.prefix ? key.slice(opts.prefix.length + 1) : key);
  const stale = [...existing].filter(([key, o]) => !current.has(key) && isHashedAsset(assetKey(key)) && o.lastModified < cutoff).map(([key]) => key);
  for (let i = 0; i < stale.length; i += 1000) {
    const batch = stale.slice(i, i + 1000);
    const res = await s3.send(new sdk.DeleteObjectsCommand({ Bucket: opts.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    if (res.Errors?.length)
      throw new DeployError(`The new version is live, but ${res.Errors.length} old assets could not be deleted (first: ${res.Errors[0].Key}: ${res.Errors[0].Code}).`);
  }
  console.log(
    stale.length
      ? `✔ Removed ${stale.length} old hashed assets (not in this build, older than ${opts.pruneDays} days).`
      : `No old hashed assets to remove (none older than ${opts.pruneDays} days outside this build).`,
  );
}

async function invalidate(opts, paths, progress) {
  progress.stage = 'invalidate';
  progress.paths = paths;
  let sdk;
  try {
    sdk = await import('@aws-sdk/client-cloudfront');
  } catch {
    throw new DeployError('The files are uploaded, but @aws-sdk/client-cloudfront is not installed (a dev dependency): run npm install, then run the command again.');
  }
  // CloudFront is global; its API answers in us-east-1 whatever the bucket's region.
  const cloudfront = new sdk.CloudFrontClient({ region: 'us-east-1' });
  const { Invalidation } = await cloudfront.send(
    new sdk.CreateInvalidationCommand({
      DistributionId: opts.distribution,
      InvalidationBatch: { CallerReference: `deploy-web-${Date.now()}`, Paths: { Quantity: paths.length, Items: paths } },
    }),
  );
  if (!Invalidation?.Id)
    throw new DeployError(`CloudFront answered no invalidation for ${opts.distribution}; the files are uploaded. Invalidate ${paths.join(' ')} in the CloudFront console.`);
  const id = Invalidation.Id;
  console.log(`CloudFront invalidation ${id} of ${paths.join(' ')} in ${opts.distribution}: ${Invalidation.Status}.`);
  if (!opts.wait) return console.log('Not waiting (--no-wait); visitors may get the previous index.html until it completes.');
  const started = Date.now();
  let status = Invalidation.Status;
  let pause = 1000;
  let lastNote = started;
  while (status !== 'Completed') {
    if (Date.now() - started > INVALIDATION_TIMEOUT_MS)
      throw new DeployError(`Invalidation ${id} is still ${status} after ${INVALIDATION_TIMEOUT_MS / 60_000} minutes; the files are uploaded. Check it in the CloudFront console.`);
    await sleep(pause);
    pause = Math.min(pause * 2, 10_000);
    status = (await cloudfront.send(new sdk.GetInvalidationCommand({ DistributionId: opts.distribution, Id: id }))).Invalidation?.Status;
    if (Date.now() - lastNote >= 30_000) {
      lastNote = Date.now();
      console.log(`  still ${status} after ${seconds(started)}…`);
    }
  }
  console.log(`✔ Invalidation ${id} completed in ${seconds(started)}: visitors get the new index.html.`);
}

/** Why a request failed, naming the setting to change; nothing from the SDK's internals. */
function reason(err, opts, stage) {
  const name = err?.name ?? '';
  const message = err?.message ?? String(err);
  const status = err?.$metadata?.httpStatusCode;
  const region = opts.region ?? process.env.AWS_REGION;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'no AWS credentials were found. Sign in (aws sso login, or set AWS_PROFILE) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.';
  }
  if (/Region is missing/i.test(message)) return 'no AWS region is set. Pass --region <the bucket’s region> or set AWS_REGION.';
  if (name === 'NoSuchBucket') return `bucket "${opts.bucket}" does not exist${region ? ` (region ${region})` : ''}. Check --bucket: the CDK app's outputs name the web bucket.`;
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301)
    return `bucket "${opts.bucket}" is in another region. Pass --region <its region> or set AWS_REGION.`;
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidClientTokenId'].includes(name))
    return `AWS refused the credentials (${name}). Sign in again, or check AWS_PROFILE / AWS_ACCESS_KEY_ID.`;
  if (name === 'NoSuchDistribution') return `CloudFront distribution "${opts.distribution}" does not exist. Check --distribution: the CDK app's outputs name it.`;
  if (name === 'AccessDenied' || status === 403) {
    return stage === 'invalidate'
      ? `access was denied (${name}). The credentials need cloudfront:CreateInvalidation and cloudfront:GetInvalidation on ${opts.distribution}.`
      : `access to bucket "${opts.bucket}" was denied (${name}). The credentials need s3:ListBucket and s3:PutObject on it (s3:DeleteObject too with --prune-older-than).`;
  }
  const network = err?.code ?? err?.cause?.code;
  if (network)
    return `could not reach ${stage === 'invalidate' ? 'CloudFront' : 'S3'} (${network}). Check the network, and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_CLOUDFRONT if set.`;
  return `${name && name !== 'Error' ? `${name}: ` : ''}${message}`;
}

/** The failure in one or two sentences: why, and what state the deploy was left in. */
function explain(err, opts, progress) {
  if (err instanceof DeployError) return err.message;
  const why = reason(err, opts, progress.stage);
  switch (progress.stage) {
    case 'upload':
      return `Uploading ${progress.failedFile ?? 'the files'} failed: ${why} Nothing visible changed (index.html was not replaced); run the command again.`;
    case 'prune':
      return `The new version is live, but removing old assets failed: ${why}`;
    case 'invalidate':
      return `The files are uploaded, but the CloudFront invalidation failed: ${why} Run the command again, or invalidate ${progress.paths.join(' ')} in the CloudFront console.`;
    default:
      return why.charAt(0).toUpperCase() + why.slice(1);
  }
}

const opts = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`✖ ${err.message}`);
    process.exit(1);
  }
})();
if (opts.help) {
  console.log(USAGE);
} else {
  // Where the deploy got to, so a failure can say what state it left behind.
  const progress = { stage: 'build', failedFile: undefined, paths: [] };
  try {
    await deploy(opts, progress);
  } catch (err) {
    console.error(`✖ ${explain(err, opts, progress)}`);
    process.exitCode = 1;
  }
}
