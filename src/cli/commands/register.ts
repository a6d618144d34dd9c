/**
 * `tsflyte register <file.ts...|package.tgz>`: registers tasks, workflows and launch plans with
 * FlyteAdmin (the `admin:` section of the Flyte config file), as `pyflyte register` and
 * `flytectl register files` do. Modules are serialized here, with their code shipped as a
 * fast-registration bundle unless `--no-fast`; a package is registered as it is (its bundle
 * uploaded). The version defaults to a digest of the content, so registering unchanged code
 * again changes nothing and any change gets a new version. Progress goes to standard error; the
 * version (or, with `--json`, a summary) to standard output.
 */
import { statSync } from "node:fs";
import type { Command } from "commander";
import { FlyteUsageError } from "../../errors.js";
import { AdminClient } from "../../remote/client.js";
import { adminConfig } from "../../remote/config.js";
import { type RegisterResult, registerModules, registerPackage } from "../../remote/register-sources.js";
import { collect, parseEnvPairs } from "./package.js";

/** The flags of `tsflyte register`. */
interface RegisterFlags {
  project?: string;
  domain?: string;
  version?: string;
  gitVersion?: boolean;
  image: string[];
  env: string[];
  sourceRoot?: string;
  config?: string;
  endpoint?: string;
  insecure?: boolean;
  fast: boolean;
  destDir?: string;
  activateLaunchPlans?: boolean;
  concurrency: string;
  json?: boolean;
  quiet?: boolean;
}

const PACKAGE_RE = /\.(tgz|tar\.gz|tar)$/i;

function isPackage(path: string): boolean {
  if (PACKAGE_RE.test(path)) return true;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Options that say how to reach the admin (shared with `run --remote`). */
export function addAdminOptions(cmd: Command): Command {
  return cmd
    .option(
      "--config <file>",
      "Flyte config file with admin: (and images:) (default: $FLYTECTL_CONFIG or ~/.flyte/config.yaml)",
    )
    .option(
      "--endpoint <endpoint>",
      "FlyteAdmin gRPC endpoint, overriding admin.endpoint (dns:///host:port or host:port)",
    )
    .option("--insecure", "plaintext HTTP/2 (no TLS), overriding admin.insecure");
}

/** Registers `tsflyte register`. */
export function register(program: Command): void {
  addAdminOptions(
    program
      .command("register")
      .description("Register tasks, workflows and launch plans (from modules or a package) with FlyteAdmin.")
      .argument("<inputs...>", ".ts/.js modules that export entities, or one package (.tgz, .tar, folder)")
      .option("-p, --project <project>", "project", "flytesnacks")
      .option("-d, --domain <domain>", "domain", "development")
      .option("-v, --version <version>", "version (default: a digest of the serialized entities and code)")
      .option("--git-version", "use the git commit as version (the tree must be clean)")
      .option(
        "-i, --image <image>",
        "an image: name=ref names one, a bare ref is the default (repeatable)",
        collect,
        [],
      )
      .option(
        "-e, --env <NAME=value>",
        "environment variable for every task container (repeatable)",
        collect,
        [],
      )
      .option(
        "--source-root <dir>",
        "root that module names (and the code bundle) are relative to (default: the working directory)",
      )
      .option("--no-fast", "do not ship the code as a bundle (it must be in the image)")
      .option("--dest-dir <dir>", "where the code bundle is unpacked in the container", ".")
      .option("--activate-launch-plans", "set the registered launch plans ACTIVE (schedules start)")
      .option("--concurrency <n>", "concurrent admin calls", "8"),
  )
    .option("--json", "print a JSON summary on standard output")
    .option("-q, --quiet", "no progress lines")
    .action(async (inputs: string[], flags: RegisterFlags) => {
      const log = flags.quiet ? undefined : (line: string) => void process.stderr.write(`${line}\n`);
      const packages = inputs.filter(isPackage);
      if (packages.length > 0 && inputs.length > 1) {
        throw new FlyteUsageError(
          "REGISTER_MIXED_INPUTS",
          `register takes modules or one package, not ${packages.length === inputs.length ? "several packages" : "both"}: ${inputs.join(" ")}`,
          { fix: "run tsflyte register once per package, or pass only .ts/.js modules" },
        );
      }
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new FlyteUsageError(
          "CONCURRENCY_INVALID",
          `--concurrency ${flags.concurrency} is not a whole number >= 1`,
          {
            fix: "pass e.g. --concurrency 8",
          },
        );
      }
      if (
        packages.length > 0 &&
        (flags.image.length > 0 || flags.env.length > 0 || flags.sourceRoot !== undefined)
      ) {
        throw new FlyteUsageError(
          "REGISTER_PACKAGE_OPTIONS",
          "--image, --env and --source-root apply when serializing modules; a package is registered as it was packaged",
          { fix: "pass them to tsflyte package instead" },
        );
      }
      const config = adminConfig({
        config: flags.config,
        endpoint: flags.endpoint,
        insecure: flags.insecure,
      });
      const client = AdminClient.connect(config, {
        log,
        onRetry: ({ call, attempt, delayMs, error }) =>
          log?.(
            `  ${call}: ${error.rawMessage}; retrying in ${(delayMs / 1000).toFixed(1)} s (${attempt}/${config.maxRetries})`,
          ),
      });
      log?.(
        `FlyteAdmin ${config.endpoint} (${config.insecure ? "plaintext" : "TLS"}, from ${config.source})`,
      );
      const common = {
        project: flags.project,
        domain: flags.domain,
        version: flags.version,
        gitVersion: flags.gitVersion,
        concurrency,
        log,
        destinationDir: flags.destDir,
        activateLaunchPlans: flags.activateLaunchPlans,
      };
      let result: RegisterResult;
      try {
        result =
          packages.length === 1
            ? await registerPackage(client, packages[0]!, common)
            : await registerModules(client, inputs, {
                ...common,
                images: flags.image,
                env: parseEnvPairs(flags.env),
                sourceRoot: flags.sourceRoot,
                config: flags.config,
                fast: flags.fast,
              });
      } finally {
        client.close();
      }
      const created = result.entities.filter((e) => e.status === "created").length;
      log?.(
        `registered ${result.entities.length} entities (${created} new, ${result.entities.length - created} already there) in ${result.project}/${result.domain} as version ${result.version} in ${(result.ms / 1000).toFixed(2)} s`,
      );
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({
            project: result.project,
            domain: result.domain,
            version: result.version,
            distributionLocation: result.distributionLocation ?? null,
            entities: result.entities.map((e) => ({ kind: e.kind, name: e.name, status: e.status })),
          })}\n`,
        );
      } else process.stdout.write(`${result.version}\n`);
    });
}
