package dev.tokenbroker.spring;

import dev.tokenbroker.redis.RedisTokenStore;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.TokenStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * {@code store.type: redis} on the application's Lettuce connection factory: one more connection
 * from the factory's own client (the store needs Lettuce's string API, not Spring's templates),
 * closed with the store. Loaded only with store-redis and spring-data-redis present.
 */
final class RedisStores {
  private RedisStores() {}

  static @Nullable TokenStore onConnectionFactory(
      LettuceConnectionFactory factory, Settings settings, Clock clock) {
    if (!(factory.getNativeClient() instanceof RedisClient)) {
      return null; // a cluster or an unstarted factory: the store's own uri settings apply
    }
    Set<String> known = new HashSet<>(EncryptionKeys.SETTINGS);
    known.addAll(Set.of("type", "key-prefix"));
    settings.rejectUnknown(known);
    RedisClient client = (RedisClient) factory.getNativeClient();
    StatefulRedisConnection<String, String> connection =
        client.connect(StringCodec.UTF8, uri(factory));
    RedisTokenStore.Builder b = RedisTokenStore.builder(connection);
    b.keyPrefix(settings.optional("key-prefix", RedisTokenStore.DEFAULT_PREFIX));
    b.clock(clock);
    b.encryption(EncryptionKeys.fromSettings(settings, System::getenv));
    TokenStore store = b.build();
    return new ForwardingTokenStore(store) {
      @Override
      public void close() {
        try {
          super.close();
        } finally {
          connection.close(); // the client stays: it is the application's
        }
      }
    };
  }

  private static io.lettuce.core.RedisURI uri(LettuceConnectionFactory factory) {
    io.lettuce.core.RedisURI.Builder b =
        io.lettuce.core.RedisURI.builder()
            .withHost(factory.getHostName())
            .withPort(factory.getPort())
            .withDatabase(factory.getDatabase())
            .withSsl(factory.isUseSsl());
    String password = factory.getPassword();
    String user = factory.getStandaloneConfiguration().getUsername();
    if (password != null) {
      if (user != null) {
        b.withAuthentication(user, password);
      } else {
        b.withPassword(password.toCharArray());
      }
    }
    return b.build();
  }
}
