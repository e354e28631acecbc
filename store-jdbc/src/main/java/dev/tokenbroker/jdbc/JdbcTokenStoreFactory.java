package dev.tokenbroker.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tokenbroker.ConfigurationException;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.TokenStoreFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code jdbc} store type: a {@link JdbcTokenStore} on a HikariCP pool it creates (and closes
 * with the broker). Found with {@link java.util.ServiceLoader}.
 *
 * <pre>
 * store:
 *   type: jdbc
 *   url: jdbc:postgresql://db.internal:5432/app
 *   username: tokenbroker
 *   password: ${TOKENBROKER_DB_PASSWORD}
 *   table: tokenbroker_tokens        # default
 *   create-schema: true              # default
 *   pool-size: 4                     # default
 *   key-env: TOKENBROKER_KEY         # or key-file; none = tokens stored in the clear
 * </pre>
 *
 * The JDBC driver (org.postgresql:postgresql, com.mysql:mysql-connector-j,
 * org.mariadb.jdbc:mariadb-java-client, com.h2database:h2) must be on the classpath.
 */
public final class JdbcTokenStoreFactory implements TokenStoreFactory {
  private static final Set<String> KNOWN;

  static {
    Set<String> known = new HashSet<>(EncryptionKeys.SETTINGS);
    known.addAll(
        Set.of("type", "url", "username", "password", "table", "create-schema", "pool-size"));
    KNOWN = Set.copyOf(known);
  }

  /** For {@link java.util.ServiceLoader}. */
  public JdbcTokenStoreFactory() {}

  @Override
  public String type() {
    return "jdbc";
  }

  @Override
  public TokenStore create(Settings settings, Clock clock) {
    settings.rejectUnknown(KNOWN);
    String url = settings.require("url");
    if (!url.startsWith("jdbc:")) {
      throw settings.invalid("url", "must be a JDBC URL starting with jdbc:");
    }
    int poolSize = settings.integer("pool-size", 4);
    if (poolSize < 1 || poolSize > 100) {
      throw settings.invalid("pool-size", "must be between 1 and 100");
    }
    String table = settings.optional("table", JdbcTokenStore.DEFAULT_TABLE);
    boolean createSchema = settings.bool("create-schema", true);
    EncryptionKeys keys = EncryptionKeys.fromSettings(settings, settings::environmentVariable);

    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    String username = settings.optional("username");
    if (username != null) {
      config.setUsername(username);
    }
    String password = settings.optional("password");
    if (password != null) {
      config.setPassword(password);
    }
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(1);
    config.setPoolName("tokenbroker-store");
    config.setConnectionTimeout(Duration.ofSeconds(10).toMillis());
    // Connect once now: an unreachable database fails the broker's start-up, not its first renewal.
    config.setInitializationFailTimeout(1);
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw settings.invalid(
          "url",
          "cannot connect: "
              + Secrets.scrub(
                  String.valueOf(cause.getMessage()),
                  password == null ? List.of() : List.of(password),
                  300));
    }
    try {
      JdbcTokenStore.Builder b =
          JdbcTokenStore.builder(pool, pool)
              .clock(clock)
              .encryption(keys)
              .createSchema(createSchema);
      try {
        b.table(table);
      } catch (IllegalArgumentException e) {
        throw settings.invalid("table", e.getMessage());
      }
      return b.build();
    } catch (TokenStoreException e) {
      pool.close();
      throw new ConfigurationException(null, "url", e.getMessage(), e);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }
}
