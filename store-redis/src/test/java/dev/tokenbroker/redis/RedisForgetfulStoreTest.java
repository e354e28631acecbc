package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.StaleLeaseException;
import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.embedded.RedisServer;

/**
 * A Redis that forgets: restarted empty, flushed, restarted from an old snapshot, or gone. Each
 * test runs its own embedded server (never {@code TOKENBROKER_TEST_REDIS_URL}, which may be
 * shared), so it may flush, stop and restart it.
 */
class RedisForgetfulStoreTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  private static final Duration TTL = Duration.ofSeconds(30);
  private static final Duration TIMEOUT = Duration.ofSeconds(1);
  private static final ConnectionId MALL = ConnectionId.of("cafe24", "mall");

  @TempDir Path dir;

  private final int port = freePort();
  private @Nullable RedisServer server;
  private final ClientResources resources =
      ClientResources.builder().reconnectDelay(Delay.constant(Duration.ofMillis(20))).build();
  private @Nullable RedisClient client;
  private @Nullable StatefulRedisConnection<String, String> connection;
  private @Nullable RedisTokenStore store;

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static TokenSet tokens(String suffix) {
    return TokenSet.builder()
        .accessToken("access-" + suffix)
        .refreshToken("refresh-" + suffix)
        .issuedAt(T0)
        .expiresAt(T0.plus(Duration.ofHours(2)))
        .build();
  }

  /**
   * Starts the server; {@code appendOnly}: every write is on disk (fsync) before it is answered.
   */
  private void startServer(boolean appendOnly) throws IOException {
    server =
        RedisServer.newRedisServer()
            .port(port)
            .bind("127.0.0.1")
            .setting("dir " + dir.toAbsolutePath())
            .setting("dbfilename snapshot.rdb")
            .setting("save \"\"") // no automatic snapshot, not even at shutdown
            .setting(appendOnly ? "appendonly yes" : "appendonly no")
            .setting("appendfsync always")
            .build();
    server.start();
  }

  private void stopServer() throws IOException {
    server.stop();
  }

  private RedisTokenStore open(boolean appendOnly) throws IOException {
    startServer(appendOnly);
    client =
        RedisClient.create(
            resources, RedisURI.Builder.redis("127.0.0.1", port).withTimeout(TIMEOUT).build());
    client.setOptions(ClientOptions.builder().autoReconnect(true).build());
    connection = client.connect(StringCodec.UTF8);
    store = RedisTokenStore.builder(connection).keyPrefix("forgetful:").build();
    return store;
  }

  @AfterEach
  void tearDown() throws IOException {
    if (connection != null) {
      connection.close();
    }
    if (client != null) {
      client.shutdown();
    }
    resources.shutdown();
    if (server != null && server.isActive()) {
      server.stop();
    }
  }

  /** What a renewal leaves an instance holding: its lease and the set it saved under it. */
  private record Held(Lease lease, TokenSet tokens) {}

  private Held renew(RedisTokenStore store, String owner, long expectedVersion, String suffix) {
    Lease lease = store.tryAcquireLease(MALL, owner, TTL, TokenStore.NO_FENCE);
    assertThat(lease).isNotNull();
    return new Held(lease, store.compareAndSet(MALL, expectedVersion, tokens(suffix), lease));
  }

  @Test
  void restartedEmpty_grantsAboveTheFenceTheCallerSaw_andTheHeldSetIsWrittenBack()
      throws Exception {
    RedisTokenStore store = open(false);
    store.put(MALL, tokens("a"));
    Held held = renew(store, "instance-a", 1, "b");

    stopServer();
    startServer(false); // empty, and its script cache too

    assertThat(store.read(MALL)).isEqualTo(StoredConnection.EMPTY);
    assertThatThrownBy(() -> store.compareAndSet(MALL, 0, tokens("c"), held.lease()))
        .as("the lease went with the data")
        .isInstanceOf(StaleLeaseException.class);
    Lease next = store.tryAcquireLease(MALL, "instance-a", TTL, held.lease().fencingToken());
    assertThat(next.fencingToken()).isGreaterThan(held.lease().fencingToken());

    StoredConnection restored = store.restore(MALL, held.tokens());

    assertThat(restored.tokens()).isEqualTo(held.tokens());
    assertThat(restored.version()).isEqualTo(2);
    assertThat(store.load(MALL)).isEqualTo(held.tokens());
    assertThat(store.connections()).containsExactly(MALL);
    assertThat(store.compareAndSet(MALL, 2, tokens("c"), next).version()).isEqualTo(3);
  }

  @Test
  void flushed_grantsAboveTheFenceTheCallerSaw_andTheHeldSetIsWrittenBack() throws Exception {
    RedisTokenStore store = open(false);
    store.put(MALL, tokens("a"));
    Held held = renew(store, "instance-a", 1, "b");
    store.releaseLease(held.lease());

    connection.sync().flushall();

    Lease next = store.tryAcquireLease(MALL, "instance-b", TTL, held.lease().fencingToken());
    assertThat(next.fencingToken()).isGreaterThan(held.lease().fencingToken());
    assertThat(store.restore(MALL, held.tokens()).tokens()).isEqualTo(held.tokens());
    assertThat(store.compareAndSet(MALL, 2, tokens("c"), next).version()).isEqualTo(3);
  }

  @Test
  void restartedFromAnOldSnapshot_fencesAndVersionsDoNotGoBack() throws Exception {
    RedisTokenStore store = open(false);
    store.put(MALL, tokens("a"));
    Held first = renew(store, "instance-a", 1, "b");
    store.releaseLease(first.lease());
    connection.sync().save(); // the snapshot: version 2, the fence of the first renewal
    Held second = renew(store, "instance-b", 2, "c");

    stopServer();
    startServer(false); // loads the snapshot

    assertThat(store.load(MALL).version()).isEqualTo(2);
    assertThatThrownBy(() -> store.compareAndSet(MALL, 2, tokens("late"), second.lease()))
        .isInstanceOf(StaleLeaseException.class);
    Lease next = store.tryAcquireLease(MALL, "instance-b", TTL, second.lease().fencingToken());
    assertThat(next.fencingToken()).isGreaterThan(second.lease().fencingToken());

    assertThat(store.restore(MALL, second.tokens()).tokens()).isEqualTo(second.tokens());
    assertThat(store.restore(MALL, first.tokens()).tokens())
        .as("an older held set never replaces a newer one")
        .isEqualTo(second.tokens());
    assertThat(store.compareAndSet(MALL, 3, tokens("d"), next).version()).isEqualTo(4);
  }

  @Test
  void aTombstone_survivesARestart_andRestoreDoesNotReviveIt() throws Exception {
    RedisTokenStore store = open(true);
    store.put(MALL, tokens("a"));
    Held held = renew(store, "instance-a", 1, "b"); // instance-a keeps this set in memory
    Lease revoke = store.seizeLease(MALL, "revoker", TTL, held.lease().fencingToken());
    store.tombstone(MALL, new Tombstone("revoked", T0, 2), revoke);
    store.releaseLease(revoke);

    stopServer();
    startServer(true); // replays the append-only file

    StoredConnection afterRestart = store.read(MALL);
    assertThat(afterRestart.tombstone()).isEqualTo(new Tombstone("revoked", T0, 2));
    StoredConnection afterRestore = store.restore(MALL, held.tokens());
    assertThat(afterRestore.tokens()).isNull();
    assertThat(afterRestore.tombstone()).isNotNull();
    assertThat(store.load(MALL)).isNull();
    assertThat(store.connections()).isEmpty();
    assertThatThrownBy(() -> store.compareAndSet(MALL, 2, tokens("late"), held.lease()))
        .isInstanceOf(StaleLeaseException.class);
    Lease connect = store.seizeLease(MALL, "connect", TTL, TokenStore.NO_FENCE);
    assertThat(store.authorize(MALL, tokens("fresh"), connect).version()).isEqualTo(3);
  }

  @Test
  void serverGone_everyCallFailsAsATokenStoreExceptionNamingTheConnection_withinTheTimeout()
      throws Exception {
    RedisTokenStore store = open(false);
    store.put(MALL, tokens("secretvalue"));
    Lease lease = store.tryAcquireLease(MALL, "instance-a", TTL, TokenStore.NO_FENCE);
    stopServer(); // connection refused from now on

    assertFailsPromptly(() -> store.read(MALL), "could not read the connection");
    assertFailsPromptly(() -> store.readAll(List.of(MALL)), "could not read the connection");
    assertFailsPromptly(
        () -> store.compareAndSet(MALL, 1, tokens("othersecret"), lease), "could not save tokens");
    assertFailsPromptly(
        () -> store.tryAcquireLease(MALL, "instance-b", TTL, TokenStore.NO_FENCE),
        "could not take the renewal lease");
    assertFailsPromptly(() -> store.markRenewing(lease), "could not mark the renewal");
    assertFailsPromptly(
        () -> store.restore(MALL, tokens("othersecret")), "could not restore tokens");
    assertThatThrownBy(store::connections)
        .isExactlyInstanceOf(TokenStoreException.class)
        .hasMessageContaining("could not list connections in Redis");
  }

  private static void assertFailsPromptly(ThrowingCallable call, String action) {
    long start = System.nanoTime();
    assertThatThrownBy(call)
        .isExactlyInstanceOf(TokenStoreException.class)
        .hasMessageStartingWith("connection cafe24:mall: " + action + " in Redis")
        .hasMessageContaining("not connected to Redis")
        .hasMessageNotContaining("secretvalue")
        .hasMessageNotContaining("othersecret")
        .satisfies(e -> assertThat(((TokenStoreException) e).connection()).isEqualTo(MALL));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUT.multipliedBy(5));
  }
}
