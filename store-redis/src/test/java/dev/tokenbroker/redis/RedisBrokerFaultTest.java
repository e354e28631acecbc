package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.cafe24.Cafe24Emulator;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.embedded.RedisServer;

/**
 * A Redis restarted empty (no persistence) under three broker instances — each with its own Redis
 * connection, as three processes have — renewing one Cafe24 mall on the testkit's emulator, whose
 * refresh tokens rotate: no instance loses the mall, and no refresh token is ever used after its
 * rotation (no {@code invalid_grant}). The restart is forced at a chosen moment: between two
 * renewals, or between the platform's answer and the save of the rotated set.
 */
class RedisBrokerFaultTest {
  private static final String CLIENT = "AbCdEfGhIjKlMnOpQrStUv";
  private static final String SECRET = "s3cr3t-Client-Secret-0123";
  private static final String REDIRECT = "https://app.example.com/cafe24/callback/";
  private static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");
  private static final Duration PAST_EXPIRY = Duration.ofHours(2).plusMinutes(1);

  @TempDir Path dir;

  private final FakeClock clock = FakeClock.at(Instant.parse("2026-03-01T03:00:00Z"));
  private final Cafe24Emulator cafe24 =
      new Cafe24Emulator(clock).registerApp(CLIENT, SECRET, REDIRECT).addMall("mall").start();
  private final int port = freePort();
  private @Nullable RedisServer server;
  private final ClientResources resources =
      ClientResources.builder().reconnectDelay(Delay.constant(Duration.ofMillis(20))).build();
  private final List<RedisClient> clients = new ArrayList<>();
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final CountDownLatch rotatedSetKept = new CountDownLatch(1);
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() throws IOException {
    pool.shutdownNow();
    brokers.forEach(TokenBroker::close);
    clients.forEach(c -> c.shutdown(0, 2, TimeUnit.SECONDS)); // no quiet period
    resources.shutdown(0, 2, TimeUnit.SECONDS);
    if (server != null && server.isActive()) {
      server.stop();
    }
    cafe24.close();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A Redis that keeps nothing on disk: a restart comes back empty. */
  private void startServer() {
    try {
      server =
          RedisServer.newRedisServer()
              .port(port)
              .bind("127.0.0.1")
              .setting("dir " + dir.toAbsolutePath())
              .setting("save \"\"")
              .setting("appendonly no")
              .build();
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void restartEmpty() {
    try {
      server.stop();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    startServer();
  }

  /** One instance's store: its own client and connection, reconnecting after a restart. */
  private RedisTokenStore openStore() {
    RedisClient client =
        RedisClient.create(
            resources,
            RedisURI.Builder.redis("127.0.0.1", port).withTimeout(Duration.ofSeconds(2)).build());
    client.setOptions(ClientOptions.builder().autoReconnect(true).build());
    clients.add(client);
    StatefulRedisConnection<String, String> connection = client.connect(StringCodec.UTF8);
    return RedisTokenStore.builder(connection).keyPrefix("fault:").build();
  }

  private Map<String, Object> settings() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("provider", "cafe24");
    s.put("mall-id", "mall");
    s.put("client-id", CLIENT);
    s.put("client-secret", SECRET);
    s.put("redirect-uri", REDIRECT);
    s.put("scopes", List.of("mall.read_product"));
    s.put("base-url", cafe24.baseUrlTemplate());
    return s;
  }

  private TokenBroker instance(String name, TokenStore store) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .instanceId(name)
            .connection(MALL, settings())
            .listener(events::add)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.STORE_RESTORED
                      || e.type() == TokenEvent.Type.SAVE_RECOVERED) {
                    rotatedSetKept.countDown();
                  }
                })
            .executor(Runnable::run)
            .withoutKeepAlive()
            .build();
    brokers.add(b);
    return b;
  }

  /** The mall as a store holds it right after it was connected. */
  private TokenSet connected() {
    Cafe24Emulator.Issued issued = cafe24.connect("mall");
    return TokenSet.builder()
        .accessToken(issued.accessToken())
        .refreshToken(issued.refreshToken())
        .issuedAt(issued.issuedAt())
        .expiresAt(issued.expiresAt())
        .refreshExpiresAt(issued.refreshExpiresAt())
        .scopes(issued.scopes())
        .extra("mall_id", "mall")
        .build();
  }

  private long count(TokenEvent.Type type) {
    return events.stream().filter(e -> e.type() == type).count();
  }

  /** Every instance asks at once; returns the distinct tokens they were given. */
  private Set<String> allAskAtOnce(List<TokenBroker> instances) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<String>> answers = new ArrayList<>();
    for (TokenBroker b : instances) {
      answers.add(
          pool.submit(
              () -> {
                go.await();
                return b.accessToken(MALL);
              }));
    }
    go.countDown();
    Set<String> tokens = new HashSet<>();
    for (Future<String> f : answers) {
      tokens.add(f.get(30, TimeUnit.SECONDS));
    }
    return tokens;
  }

  /** The mall is alive: the stored refresh token and every instance's access token work. */
  private void mallIsAlive(List<TokenBroker> instances, TokenStore anyStore) {
    TokenSet stored = anyStore.load(MALL);
    assertThat(stored).as("the store holds the mall").isNotNull();
    assertThat(cafe24.isRefreshTokenValid(stored.refreshToken()))
        .as("the stored refresh token is the live one")
        .isTrue();
    for (TokenBroker b : instances) {
      assertThat(cafe24.isAccessTokenValid(b.accessToken(MALL))).isTrue();
    }
    assertThat(cafe24.invalidRefreshAnswers()).as("invalid_grant answers").isZero();
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isZero();
  }

  @Test
  void restartedEmptyBetweenRenewals_theInstancesWriteTheMallBack_andRenewItOnce()
      throws Exception {
    startServer();
    List<RedisTokenStore> stores = List.of(openStore(), openStore(), openStore());
    stores.get(0).put(MALL, connected());
    List<TokenBroker> instances = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      instances.add(instance("instance-" + i, stores.get(i)));
    }
    assertThat(allAskAtOnce(instances)).hasSize(1);
    clock.advance(PAST_EXPIRY);
    assertThat(allAskAtOnce(instances)).hasSize(1);
    assertThat(cafe24.refreshes()).isEqualTo(1);

    restartEmpty();
    assertThat(stores.get(1).load(MALL)).as("Redis came back empty").isNull();

    clock.advance(PAST_EXPIRY);
    Set<String> tokens = allAskAtOnce(instances);
    assertThat(tokens).hasSize(1);
    assertThat(cafe24.refreshes()).as("one renewal after the restart").isEqualTo(2);
    assertThat(count(TokenEvent.Type.STORE_RESTORED)).isGreaterThanOrEqualTo(1);
    mallIsAlive(instances, stores.get(2));

    clock.advance(PAST_EXPIRY);
    assertThat(allAskAtOnce(instances)).hasSize(1);
    assertThat(cafe24.refreshes()).isEqualTo(3);
    mallIsAlive(instances, stores.get(0));
  }

  @Test
  void restartedEmptyBetweenTheRefreshAndItsSave_theRotatedSetIsKept() throws Exception {
    startServer();
    RedisTokenStore first = openStore();
    AtomicBoolean restartOnNextSave = new AtomicBoolean();
    TokenStore hooked =
        new ForwardingTokenStore(first) {
          @Override
          public TokenSet compareAndSet(
              ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
            if (restartOnNextSave.getAndSet(false)) {
              restartEmpty(); // the platform rotated; the store forgets everything, lease too
            }
            return super.compareAndSet(id, expectedVersion, tokens, lease);
          }
        };
    first.put(MALL, connected());
    RedisTokenStore second = openStore();
    RedisTokenStore third = openStore();
    List<TokenBroker> instances =
        List.of(
            instance("instance-0", hooked),
            instance("instance-1", second),
            instance("instance-2", third));
    assertThat(allAskAtOnce(instances)).hasSize(1);
    clock.advance(PAST_EXPIRY);

    restartOnNextSave.set(true);
    String renewed = instances.get(0).accessToken(MALL);
    assertThat(cafe24.isAccessTokenValid(renewed)).isTrue();
    assertThat(rotatedSetKept.await(20, TimeUnit.SECONDS))
        .as("the rotated set is written back to the restarted Redis")
        .isTrue();
    TokenSet stored = second.load(MALL);
    assertThat(stored).isNotNull();
    assertThat(stored.accessToken()).isEqualTo(renewed);
    assertThat(stored.version()).isGreaterThan(1);
    assertThat(allAskAtOnce(instances)).containsExactly(renewed);
    assertThat(cafe24.refreshes()).isEqualTo(1);
    mallIsAlive(instances, third);

    clock.advance(PAST_EXPIRY);
    assertThat(allAskAtOnce(instances)).hasSize(1);
    assertThat(cafe24.refreshes()).isEqualTo(2);
    mallIsAlive(instances, first);
  }
}
