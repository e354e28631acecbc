package dev.tokenbroker.spring;

import dev.tokenbroker.jdbc.JdbcTokenStore;
import dev.tokenbroker.spi.EncryptionKeys;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.store.TokenStore;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;
import javax.sql.DataSource;

/**
 * {@code store.type: jdbc} on the application's DataSource. Loaded only with store-jdbc present.
 */
final class JdbcStores {
  private JdbcStores() {}

  static TokenStore onDataSource(DataSource dataSource, Settings settings, Clock clock) {
    Set<String> known = new HashSet<>(EncryptionKeys.SETTINGS);
    known.addAll(Set.of("type", "table", "create-schema"));
    settings.rejectUnknown(known);
    return JdbcTokenStore.builder(dataSource)
        .table(settings.optional("table", JdbcTokenStore.DEFAULT_TABLE))
        .createSchema(settings.bool("create-schema", true))
        .clock(clock)
        .encryption(EncryptionKeys.fromSettings(settings, System::getenv))
        .build();
  }
}
