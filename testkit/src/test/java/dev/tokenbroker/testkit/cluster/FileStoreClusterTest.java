package dev.tokenbroker.testkit.cluster;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@link ClusterScenario} on one file store directory shared by the three broker JVMs. */
class FileStoreClusterTest {
  @TempDir Path dir;

  @Test
  void threeProcessesRenewEachExpiryOnce_withoutInvalidGrantOrCallerErrors() throws Exception {
    ClusterScenario.run(Map.of("type", "file", "path", dir.toString()));
  }
}
