package dev.tokenbroker.redis;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.RenewalPolicy;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenStore;
import dev.tokenbroker.testkit.OAuth2TestProvider;
import io.lettuce.core.RedisClient;
import io.lettuce.core.codec.StringCodec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;

/**
 * One broker instance of a cluster test, in its own JVM: {@code <redis-url> <prefix> <emulator-url>
 * <instance-id> <threads>}. Prints READY, waits for {@code GO <deadline-millis>} on standard input,
 * then lets its threads ask for the access token (and use it at the emulator's API every few calls)
 * until the deadline, and prints {@code DONE <calls> <errors> <api-rejections>}.
 */
public final class ClusterChild {
  static final ConnectionId ID = ConnectionId.of("oauth2", "cluster");
  static final String CLIENT = "cluster-app";
  static final String SECRET = "cluster-secret";
  static final String REDIRECT = "http://127.0.0.1:9/callback";

  /** Renew 300 ms before expiry; the last 100 ms count as expired. */
  static final RenewalPolicy POLICY =
      RenewalPolicy.of(Duration.ofMillis(300), Duration.ofMillis(100));

  private ClusterChild() {}

  static TokenStore openStore(String[] args) {
    return RedisTokenStore.builder(RedisClient.create(args[0]).connect(StringCodec.UTF8))
        .keyPrefix(args[1])
        .build();
  }

  public static void main(String[] args) throws Exception {
    String emulator = args[2];
    String instance = args[3];
    int threads = Integer.parseInt(args[4]);
    TokenStore store = openStore(args);
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
