/**
 * What the CodeBuild image the pipeline names (`aws/codebuild/standard:7.0`) contains, as AWS's own image sources say.
 * Tests of the pipeline scripts and runtime pins use this instead of assumptions about "a CI machine".
 *
 * Source: https://github.com/aws/aws-codebuild-docker-images, read at commit 1590e48787084015430500926ea922130dbe9367
 * (2026-04-09): `ubuntu/standard/7.0/Dockerfile` and `ubuntu/standard/7.0/runtimes.yml`.
 * Runtime selection: https://docs.aws.amazon.com/codebuild/latest/userguide/runtime-versions.html and
 * https://docs.aws.amazon.com/codebuild/latest/userguide/available-runtimes.html ("If you specify one or more
 * runtimes, CodeBuild uses only those runtimes"; without a selection the image's defaults apply).
 */

/** A runtime `phases.install.runtime-versions` can select: the versions runtimes.yml lists, and the image default. */
export interface ImageRuntime {
  /** runtimes.yml `<runtime>.versions` keys, mapped to the exact version the Dockerfile installs for each. */
  readonly versions: Readonly<Record<string, string>>;
  /** Active when no runtime is selected (Dockerfile stage `std_v7`). */
  readonly defaultVersion: string;
}

export interface CodeBuildImage {
  readonly name: string;
  /** Dockerfile `FROM` of the `core` stage. */
  readonly baseImage: string;
  /** Debian packages of the `core` stage that bear on this project (the full list is much longer). */
  readonly aptPackages: readonly string[];
  /** Debian packages that stage does not install and the pipeline needs. */
  readonly absentAptPackages: readonly string[];
  readonly runtimes: { readonly nodejs: ImageRuntime; readonly python: ImageRuntime };
  /** Tools on PATH outside the runtimes (Dockerfile `tools` stage). */
  readonly tools: readonly string[];
}

export const CODEBUILD_STANDARD_7_0: CodeBuildImage = {
  name: 'aws/codebuild/standard:7.0',
  baseImage: 'public.ecr.aws/ubuntu/ubuntu:22.04',
  // Dockerfile, core stage: "apt-get install -y -qq --no-install-recommends ... libpq-dev ... python-is-python3 ...".
  // libpq-dev brings the client library and pg_config, whose --bindir names the server's directory
  // (/usr/lib/postgresql/<major>/bin) whether or not the server is installed.
  aptPackages: ['libpq-dev', 'curl', 'jq', 'git-lfs', 'python-is-python3'],
  // No postgresql / postgresql-<major> package anywhere in the Dockerfile: no initdb, pg_ctl or postgres.
  absentAptPackages: ['postgresql'],
  runtimes: {
    // runtimes.yml nodejs.versions 24, 22, 20, 18 ("n $NODE_<major>_VERSION"); Dockerfile ENV NODE_<major>_VERSION.
    // std_v7 stage: "RUN n $NODE_18_VERSION".
    nodejs: { versions: { '24': '24.14.0', '22': '22.22.0', '20': '20.20.0', '18': '18.20.8' }, defaultVersion: '18.20.8' },
    // runtimes.yml python.versions 3.14 ... 3.9 ("pyenv global $PYTHON_<v>_VERSION"); std_v7: "pyenv global $PYTHON_311_VERSION".
    python: {
      versions: { '3.14': '3.14.3', '3.13': '3.13.12', '3.12': '3.12.13', '3.11': '3.11.15', '3.10': '3.10.20', '3.9': '3.9.25' },
      defaultVersion: '3.11.15',
    },
  },
  // Tools stage: AWS CLI v2 from awscli-exe-linux-x86_64.zip into /usr/local/bin (a bundled binary, no Python runtime).
  tools: ['aws'],
};
