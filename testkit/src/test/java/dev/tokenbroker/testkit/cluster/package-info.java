/**
 * The cluster test for every store: {@link dev.tokenbroker.testkit.cluster.ClusterScenario} runs
 * separate broker JVMs ({@link dev.tokenbroker.testkit.cluster.ClusterChild}) sharing one store
 * against the OAuth2 emulator, and each store module's test calls it with its store settings
 * (published in testkit's test-jar). The file store's run lives here because core's tests cannot
 * use the testkit.
 */
@NullMarked
package dev.tokenbroker.testkit.cluster;

import org.jspecify.annotations.NullMarked;
