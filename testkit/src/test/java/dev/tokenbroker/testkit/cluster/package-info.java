/**
 * Cluster tests of the file token store: separate broker JVMs sharing one directory against the
 * OAuth2 emulator. They live here because core's tests cannot use the testkit.
 */
@NullMarked
package dev.tokenbroker.testkit.cluster;

import org.jspecify.annotations.NullMarked;
