// Maven Central downloads through `mvn` (so ~/.m2 and any configured mirror are used).
// Calls are serialised: two mvn processes writing the same local repository can corrupt it.
import fs from 'node:fs';
import path from 'node:path';
import { run } from './util.mjs';

const DEP_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';

let chain = Promise.resolve();
/** @template T @param {() => Promise<T>} fn @returns {Promise<T>} */
function serial(fn) {
  const next = chain.then(fn, fn);
  chain = next.then(
    () => undefined,
    () => undefined,
  );
  return next;
}

/** Extra args for every mvn call: batch mode, quiet, no transfer progress. */
const MVN_ARGS = ['-B', '-q', '-ntp'];

/**
 * Copies the runtime dependency closure of `dependencies` into outDir (via a throwaway pom).
 * @param {string} workDir
 * @param {{groupId: string, artifactId: string, version: string}[]} dependencies
 * @param {string} outDir
 * @param {string} logFile
 */
export function copyDependencies(workDir, dependencies, outDir, logFile) {
  return serial(async () => {
    fs.mkdirSync(workDir, { recursive: true });
    const deps = dependencies
      .map(
        (d) =>
          `    <dependency><groupId>${d.groupId}</groupId><artifactId>${d.artifactId}</artifactId>` +
          `<version>${d.version}</version></dependency>`,
      )
      .join('\n');
    fs.writeFileSync(
      path.join(workDir, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sluice.testbed</groupId><artifactId>runtime</artifactId>
  <version>1</version><packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`,
    );
    await run(
      'mvn',
      [
        ...MVN_ARGS,
        '-f',
        path.join(workDir, 'pom.xml'),
        `${DEP_PLUGIN}:copy-dependencies`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${outDir}`,
      ],
      { cwd: workDir, logFile },
    );
  });
}

/**
 * Copies one artifact (e.g. `g:a:v:zip`) into outDir and returns the file path.
 * @param {string} artifact groupId:artifactId:version[:packaging[:classifier]]
 * @param {string} outDir
 * @param {string} logFile
 */
export function copyArtifact(artifact, outDir, logFile) {
  return serial(async () => {
    fs.mkdirSync(outDir, { recursive: true });
    await run(
      'mvn',
      [...MVN_ARGS, `${DEP_PLUGIN}:copy`, `-Dartifact=${artifact}`, `-DoutputDirectory=${outDir}`],
      { cwd: outDir, logFile },
    );
  });
}

/**
 * Copies the runtime dependency closure of an existing project POM into outDir.
 * @param {string} pom path of the pom.xml
 * @param {string} outDir
 * @param {string} logFile
 */
export function copyProjectDependencies(pom, outDir, logFile) {
  return serial(async () => {
    fs.mkdirSync(outDir, { recursive: true });
    await run(
      'mvn',
      [
        ...MVN_ARGS,
        '-f',
        pom,
        `${DEP_PLUGIN}:copy-dependencies`,
        '-DincludeScope=runtime',
        `-DoutputDirectory=${outDir}`,
      ],
      { cwd: path.dirname(pom), logFile },
    );
  });
}
