package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.TokenStore;
import dev.tokenbroker.testkit.OAuth2Emulator;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Three broker JVMs × 32 threads share one PostgreSQL table against a rotating-refresh-token
 * emulator whose access tokens live one second, for more than 20 expiries.
 */
class PostgresClusterTest {
  static final int PROCESSES = 3;
  static final int THREADS = 32;
  static final Duration LIFETIME = Duration.ofSeconds(1);

  /** A token is renewed once it has lived this long (lifetime minus the 300 ms margin). */
  static final long PERIOD_MILLIS = 700;

  static final int RENEWALS = 26;

  @Test
  void threeProcessesRenewEachExpiryOnce_withoutInvalidGrantOrCallerErrors() throws Exception {
    String table = TestDatabases.freshTable();
    String[] storeArgs = {TestDatabases.postgresUrl(), table};
    TokenStore parentStore = ClusterChild.openStore(storeArgs);
    try (OAuth2Emulator emulator =
        new OAuth2Emulator(Clock.systemUTC())
            .registerClient(ClusterChild.CLIENT, ClusterChild.SECRET, ClusterChild.REDIRECT)
            .accessTokenLifetime(LIFETIME)
            .start()) {
      List<ChildJvm> children = new ArrayList<>();
      try {
        for (int p = 0; p < PROCESSES; p++) {
          children.add(
              ChildJvm.start(
                  ClusterChild.class,
                  storeArgs[0],
                  storeArgs[1],
                  emulator.baseUrl(),
                  "instance-" + p,
                  Integer.toString(THREADS)));
        }
        for (ChildJvm child : children) {
          child.await("READY", 120);
        }
        long start = System.currentTimeMillis();
        TokenSet seeded = emulator.seed(parentStore, ClusterChild.ID, ClusterChild.CLIENT);
        long deadline = start + RENEWALS * PERIOD_MILLIS + PERIOD_MILLIS / 2;
        for (ChildJvm child : children) {
          child.send("GO " + deadline);
        }

        List<String> problems = new ArrayList<>();
        List<Long> refreshedAt = new ArrayList<>();
        long calls = 0;
        for (ChildJvm child : children) {
          String line;
          String done = null;
          while ((line = child.nextLine(120, TimeUnit.SECONDS)) != null) {
            if (line.startsWith("DONE ")) {
              done = line;
            } else if (line.startsWith("REFRESHED ")) {
              refreshedAt.add(Long.parseLong(line.substring(10)));
            } else {
              problems.add(line);
            }
          }
          assertThat(done).as("child finished").isNotNull();
          String[] parts = done.split(" ");
          calls += Long.parseLong(parts[1]);
          assertThat(parts[2]).as("caller errors").isEqualTo("0");
          assertThat(child.waitFor(30)).isZero();
        }
        assertThat(problems).isEmpty();

        // The expiries of the run: every token of the chain (the seeded one, then each renewal's)
        // that became due for renewal before the deadline. Counted from the tokens' own times, so
        // a slow machine that renews a little late does not change what is expected of it.
        refreshedAt.sort(null);
        long expiries = 0;
        List<Long> chain = new ArrayList<>();
        chain.add(seeded.issuedAt().toEpochMilli());
        chain.addAll(refreshedAt);
        for (long issued : chain) {
          if (issued + PERIOD_MILLIS <= deadline) {
            expiries++;
          }
        }
        long renewals = emulator.tokenRequests(OAuth2Emulator.REFRESH_TOKEN);
        System.out.printf(
            "%d calls; %d expiries in %d ms; %d refresh requests; %d invalid_grant%n",
            calls, expiries, deadline - start, renewals, emulator.invalidGrantAnswers());
        assertThat(emulator.invalidGrantAnswers()).as("invalid_grant answers").isZero();
        assertThat(emulator.tokenRequests()).as("token requests").isEqualTo(renewals);
        assertThat(refreshedAt).as("one REFRESHED event per request").hasSize((int) renewals);
        assertThat(expiries).as("expiries in the run").isGreaterThanOrEqualTo(20);
        assertThat(renewals)
            .as("refresh requests vs expiries")
            .isBetween(expiries - 1, expiries + 1);
        // No token was renewed twice: consecutive renewals are a token's life apart, not moments
        // (half a period leaves room for the gap between a token's issue and its event).
        for (int i = 1; i < chain.size(); i++) {
          assertThat(chain.get(i) - chain.get(i - 1))
              .as("time between renewal %d and the one before", i)
              .isGreaterThanOrEqualTo(PERIOD_MILLIS / 2);
        }
        // Every renewal was saved before use: one store version per refresh.
        TokenSet last = parentStore.load(ClusterChild.ID);
        assertThat(last.version() - seeded.version()).isEqualTo(renewals);
      } finally {
        for (ChildJvm child : children) {
          child.close();
        }
      }
    } finally {
      parentStore.close();
      TestDatabases.drop(TestDatabases.postgres(), table);
    }
  }
}
