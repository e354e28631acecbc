package dev.tokenbroker.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.embedded.RedisShardedCluster;

/**
 * Registry changes and one-time records on a real Redis Cluster of three masters (embedded-redis's
 * sharded cluster): the registry's sorted set and each one-time record are keys of their own,
 * mostly in other slots, on other nodes, than the connection's keys; every script still touches one
 * slot, which the cluster would refuse otherwise ({@code CROSSSLOT}).
 */
class RedisRealClusterTest {
  private static RedisShardedCluster cluster;
  private static RedisClusterClient client;
  private static StatefulRedisClusterConnection<String, String> connection;

  @BeforeAll
  static void startCluster() throws IOException {
    List<Integer> ports = freePorts(3);
    cluster =
        RedisShardedCluster.newRedisCluster()
            .shard("master1", 0)
            .shard("master2", 0)
            .shard("master3", 0)
            .serverPorts(ports)
            .initializationTimeout(Duration.ofSeconds(60))
            .build();
    cluster.start();
    awaitClusterOk(cluster.serverPorts());
    client = RedisClusterClient.create(RedisURI.create("127.0.0.1", cluster.serverPorts().get(0)));
    connection = client.connect(StringCodec.UTF8);
  }

  @AfterAll
  static void stopCluster() throws IOException {
    if (connection != null) {
      connection.close();
      client.shutdown();
    }
    if (cluster != null) {
      cluster.stop();
    }
  }

  /**
   * Waits (bounded, real time: the nodes are other processes gossiping) until every node says
   * {@code cluster_state:ok}. The embedded cluster's start returns when one node does; on a busy
   * machine another may still answer CLUSTERDOWN for a moment.
   */
  private static void awaitClusterOk(List<Integer> ports) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    for (int port : ports) {
      io.lettuce.core.RedisClient node =
          io.lettuce.core.RedisClient.create(RedisURI.create("127.0.0.1", port));
      try (io.lettuce.core.api.StatefulRedisConnection<String, String> c =
          node.connect(StringCodec.UTF8)) {
        while (!c.sync().clusterInfo().contains("cluster_state:ok")) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("node " + port + " never reported cluster_state:ok");
          }
          java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
      } finally {
        node.shutdown();
      }
    }
  }

  /** Ports whose cluster bus port (+10000) is below 65536 too. */
  private static List<Integer> freePorts(int n) throws IOException {
    List<Integer> ports = new ArrayList<>();
    while (ports.size() < n) {
      try (ServerSocket s = new ServerSocket(0)) {
        int p = s.getLocalPort();
        if (p < 55000 && !ports.contains(p)) {
          ports.add(p);
        }
      }
    }
    return ports;
  }

  private static TokenSet tokens(String suffix) {
    Instant t0 = Instant.parse("2026-03-01T00:00:00Z");
    return TokenSet.builder()
        .accessToken("access-" + suffix)
        .refreshToken("refresh-" + suffix)
        .issuedAt(t0)
        .expiresAt(t0.plus(Duration.ofHours(2)))
        .build();
  }

  private static Instant redisNow() {
    List<String> t = connection.sync().time();
    return Instant.ofEpochSecond(Long.parseLong(t.get(0)), Long.parseLong(t.get(1)) * 1000);
  }

  @Test
  void registryAndOneTimeRecords_workAcrossTheNodesOfACluster() {
    String prefix = TestRedis.freshPrefix();
    TokenStore store =
        RedisTokenStore.builder(connection)
            .keyPrefix(prefix)
            .encryption(EncryptionKeys.of(RedisTokenStoreTest.key(4)))
            .build();
    RedisTokenStore redis = (RedisTokenStore) store;
    Instant before = redisNow().minusSeconds(1);

    Set<Integer> slots = new HashSet<>();
    List<ConnectionId> ids = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      ConnectionId id = ConnectionId.of("cafe24", "mall-" + i);
      ids.add(id);
      store.put(id, tokens("a" + i));
      slots.add(SlotHash.getSlot(redis.tokensKey(id)));
    }
    assertThat(slots).as("the connections are spread over the cluster").hasSizeGreaterThan(1);
    assertThat(store.changedSince(before)).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(store.connections()).containsExactlyInAnyOrderElementsOf(ids);

    Lease lease = store.seizeLease(ids.get(0), "revoker", Duration.ofSeconds(30), 0);
    store.tombstone(ids.get(0), new Tombstone("revoked", Instant.now(), 0), lease);
    assertThat(store.changedSince(before)).contains(ids.get(0));
    assertThat(store.connections()).doesNotContain(ids.get(0));

    Instant later = redisNow().plusSeconds(60);
    for (int i = 0; i < 12; i++) {
      assertThat(store.putOnce("state:" + i, new byte[] {(byte) i}, later)).isTrue();
      assertThat(store.putOnce("state:" + i, new byte[] {9}, later)).isFalse();
    }
    for (int i = 0; i < 12; i++) {
      assertThat(store.takeOnce("state:" + i)).containsExactly(i);
      assertThat(store.takeOnce("state:" + i)).isNull();
    }
  }
}
