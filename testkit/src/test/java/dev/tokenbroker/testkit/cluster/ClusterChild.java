package dev.tokenbroker.testkit.cluster;

import dev.tokenbroker.ChildJvm;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TestStores;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.OAuth2TestProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;

/**
 * One broker instance of a {@link ClusterScenario}, in its own JVM: {@code <emulator-url>
 * <instance-id> <threads> <setting>=<value>…}, its store built from the store settings by {@link
 * TestStores#open} (the factory comes from the class path the child inherits). Prints READY, waits
 * for {@code GO <deadline-millis>} on standard input, then lets its threads ask for the access
 * token until the deadline, printing {@code REFRESHED <event-millis>} for each renewal it made, and
 * prints {@code DONE <calls> <errors>}.
 */
public final class ClusterChild {
  static final ConnectionId ID = ConnectionId.of("oauth2-test", "cluster");
  static final String CLIENT = "cluster-app";
  static final String SECRET = "cluster-secret";
  static final String REDIRECT = "http://127.0.0.1:9/callback";

  /** Renew 300 ms before expiry; the last 100 ms count as expired. */
  static final RenewalPolicy POLICY =
      RenewalPolicy.of(Duration.ofMillis(300), Duration.ofMillis(100));

  private ClusterChild() {}

  static ChildJvm start(
      String emulatorUrl, String instance, int threads, Map<String, String> storeSettings)
      throws IOException {
    List<String> args = new ArrayList<>();
    args.add(emulatorUrl);
    args.add(instance);
    args.add(Integer.toString(threads));
    args.addAll(TestStores.toArgs(storeSettings));
    return ChildJvm.start(ClusterChild.class, args.toArray(new String[0]));
  }

  public static void main(String[] args) throws Exception {
    String emulator = args[0];
    String instance = args[1];
    int threads = Integer.parseInt(args[2]);
    TokenStore store = TestStores.open(TestStores.fromArgs(args, 3));
    OkHttpClient http = new OkHttpClient();
    TokenBroker broker =
        TokenBroker.builder()
            .store(store)
            .httpClient(http)
            .instanceId(instance)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.REFRESHED) {
                    say("REFRESHED " + e.at().toEpochMilli());
                  }
                })
            .lease(Duration.ofSeconds(10), Duration.ofSeconds(10))
            .connection(
                ID,
                OAuth2TestProvider.builder()
                    .baseUrl(emulator)
                    .client(CLIENT, SECRET)
                    .redirectUri(REDIRECT)
                    .renewalPolicy(POLICY)
                    .clock(Clock.systemUTC())
                    .httpClient(http)
                    .build())
            .build();
    say("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String go = in.readLine();
    if (go == null || !go.startsWith("GO ")) {
      Runtime.getRuntime().halt(4);
    }
    watchParent(in);
    long deadline = Long.parseLong(go.substring(3));

    AtomicLong calls = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w =
          new Thread(
              () -> {
                while (System.currentTimeMillis() < deadline) {
                  try {
                    String token = broker.accessToken(ID);
                    calls.incrementAndGet();
                    Thread.sleep(20);
                  } catch (InterruptedException e) {
                    return;
                  } catch (RuntimeException e) {
                    errors.incrementAndGet();
                    say("ERROR " + e);
                  }
                }
              });
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) {
      w.join();
    }
    say("DONE " + calls.get() + " " + errors.get());
    broker.close();
    store.close();
    System.exit(0);
  }

  static void say(String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }

  private static void watchParent(BufferedReader in) {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                while (in.readLine() != null) {
                  // ignore input
                }
              } catch (IOException e) {
                // fall through
              }
              Runtime.getRuntime().halt(4);
            },
            "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }
}
