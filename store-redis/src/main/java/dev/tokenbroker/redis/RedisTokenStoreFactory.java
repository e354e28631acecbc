package dev.tokenbroker.redis;

import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreFactory;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code redis} store type: a {@link RedisTokenStore} on a Lettuce client it creates (and
 * closes with the broker). Found with {@link java.util.ServiceLoader}.
 *
 * <pre>
 * store:
 *   type: redis
 *   uri: redis://:${REDIS_PASSWORD}@redis.internal:6379/0   # rediss:// for TLS;
 *                                    # redis-sentinel://host:26379,host2:26379/0#mymaster
 *   cluster: false                   # true: uri lists seed nodes, comma-separated
 *   key-prefix: "tokenbroker:"       # default
 *   timeout: 5s                      # command timeout, default 5s
 *   key-env: TOKENBROKER_KEY         # or key-file; none = tokens stored in the clear
 * </pre>
 */
public final class RedisTokenStoreFactory implements TokenStoreFactory {
  private static final Set<String> KNOWN;

  static {
    Set<String> known = new HashSet<>(EncryptionKeys.SETTINGS);
    known.addAll(Set.of("type", "uri", "cluster", "key-prefix", "timeout"));
    KNOWN = Set.copyOf(known);
  }

  /** For {@link java.util.ServiceLoader}. */
  public RedisTokenStoreFactory() {}

  @Override
  public String type() {
    return "redis";
  }

  @Override
  public TokenStore create(Settings settings, Clock clock) {
    settings.rejectUnknown(KNOWN);
    boolean cluster = settings.bool("cluster", false);
    Duration timeout = settings.duration("timeout", Duration.ofSeconds(5));
    if (timeout.isZero()) {
      throw settings.invalid("timeout", "must be positive");
    }
    String prefix = settings.optional("key-prefix", RedisTokenStore.DEFAULT_PREFIX);
    EncryptionKeys keys = EncryptionKeys.fromSettings(settings, settings::environmentVariable);
    List<RedisURI> uris = new ArrayList<>();
    List<String> texts = cluster ? settings.list("uri") : List.of(settings.require("uri"));
    for (String text : texts) {
      try {
        RedisURI uri = RedisURI.create(text);
        uri.setTimeout(timeout);
        uris.add(uri);
      } catch (IllegalArgumentException e) {
        // Never echo the URI: it may carry a password.
        throw settings.invalid("uri", "must be a redis://, rediss:// or redis-sentinel:// URI");
      }
    }
    if (uris.isEmpty()) {
      throw settings.invalid("uri", "is required");
    }

    RedisTokenStore.Builder b;
    if (cluster) {
      RedisClusterClient client = RedisClusterClient.create(uris);
      StatefulRedisClusterConnection<String, String> connection;
      try {
        connection = client.connect(StringCodec.UTF8);
      } catch (RedisException e) {
        client.shutdown();
        throw cannotConnect(settings, texts, e);
      }
      b =
          RedisTokenStore.builder(
              connection,
              () -> {
                connection.close();
                client.shutdown();
              });
    } else {
      RedisClient client = RedisClient.create();
      StatefulRedisConnection<String, String> connection;
      try {
        connection = client.connect(StringCodec.UTF8, uris.get(0));
      } catch (RedisException e) {
        client.shutdown();
        throw cannotConnect(settings, texts, e);
      }
      b =
          RedisTokenStore.builder(
              connection,
              () -> {
                connection.close();
                client.shutdown();
              });
    }
    try {
      b.keyPrefix(prefix);
    } catch (IllegalArgumentException e) {
      throw settings.invalid("key-prefix", e.getMessage());
    }
    return b.clock(clock).encryption(keys).build();
  }

  private static ConfigurationException cannotConnect(
      Settings settings, List<String> uris, RedisException e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    // Lettuce's messages name host and port; scrub credentials all the same.
    List<String> secrets = new ArrayList<>();
    for (String text : uris) {
      try {
        String userInfo = URI.create(text).getRawUserInfo();
        if (userInfo != null) {
          secrets.add(userInfo);
          secrets.add(userInfo.substring(userInfo.indexOf(':') + 1));
        }
      } catch (IllegalArgumentException ignored) {
        // not a URI java.net can parse: nothing to scrub by name
      }
    }
    return settings.invalid(
        "uri", "cannot connect to Redis: " + Secrets.scrub(root.getMessage(), secrets, 300));
  }
}
