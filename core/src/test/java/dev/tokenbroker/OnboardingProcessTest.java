package dev.tokenbroker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of a service in separate JVMs on one file store: an authorization started on one
 * completes on the other, exactly once; each serves the other's new connections without a restart;
 * a removal on one stops the other at its next discovery.
 */
class OnboardingProcessTest {
  @TempDir Path dir;

  @Test
  void twoProcesses_shareAuthorizationState_connections_andRemovals() throws Exception {
    try (ChildJvm a = ChildJvm.start(OnboardingChild.class, dir.toString(), "a");
        ChildJvm b = ChildJvm.start(OnboardingChild.class, dir.toString(), "b")) {
      a.await("ready", 60);
      b.await("ready", 60);

      a.send("start fake:mall-a");
      String state = a.await("state ", 30).substring(6);
      b.send("callback " + state);
      assertThat(b.await("", 30)).isEqualTo("connected fake:mall-a");
      a.send("callback " + state);
      assertThat(a.await("", 30)).as("the state is spent everywhere").contains("unknown state");
      a.send("exchanges");
      b.send("exchanges");
      assertThat(a.await("exchanges", 30)).isEqualTo("exchanges 0");
      assertThat(b.await("exchanges", 30)).isEqualTo("exchanges 1");

      a.send("token fake:mall-a");
      String tokenOnA = a.await("", 30);
      b.send("token fake:mall-a");
      assertThat(b.await("", 30)).isEqualTo(tokenOnA).startsWith("token a-");

      b.send("remove fake:mall-a");
      assertThat(b.await("", 30)).isEqualTo("removed");
      a.send("token fake:mall-a");
      assertThat(a.await("", 30)).as("still cached on A until it learns").isEqualTo(tokenOnA);
      a.send("discover");
      assertThat(a.await("", 30)).isEqualTo("discovered 1");
      a.send("token fake:mall-a");
      assertThat(a.await("", 30)).startsWith("error ConfigurationException").contains("removed");
    }
  }
}
