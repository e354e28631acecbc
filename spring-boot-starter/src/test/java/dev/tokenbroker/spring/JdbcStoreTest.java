package dev.tokenbroker.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.jdbc.JdbcTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.naver.NaverEmulator;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;

/** {@code store.type: jdbc} without a url stores tokens through the application's DataSource. */
class JdbcStoreTest {
  private final FakeClock clock = FakeClock.at(Instant.parse("2026-12-01T00:00:00Z"));
  private final NaverEmulator naver = new NaverEmulator(clock);

  @AfterEach
  void stop() {
    naver.close();
  }

  @Test
  void jdbcStore_usesTheApplicationsDataSource() {
    naver.registerApplication(TestEmulators.NAVER_CLIENT, TestEmulators.NAVER_SECRET).start();
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:starter-jdbc;DB_CLOSE_DELAY=-1");
    Map<String, Object> props =
        Map.of(
            "tokenbroker.store.type",
            "jdbc",
            "tokenbroker.keep-alive.enabled",
            "false",
            "tokenbroker.connections.[naver:self].client-id",
            TestEmulators.NAVER_CLIENT,
            "tokenbroker.connections.[naver:self].client-secret",
            TestEmulators.NAVER_SECRET,
            "tokenbroker.connections.[naver:self].base-url",
            naver.baseUrl());
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(TokenBrokerAutoConfiguration.class))
        .withInitializer(
            c ->
                c.getEnvironment().getPropertySources().addFirst(new MapPropertySource("t", props)))
        .withBean(TokenBrokerAutoConfiguration.CLOCK_BEAN, Clock.class, () -> clock)
        .withBean(DataSource.class, () -> h2)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(TokenStore.class)).isInstanceOf(JdbcTokenStore.class);
              context.getBean(TokenBroker.class).accessToken(ConnectionId.parse("naver:self"));
              try (Connection c = h2.getConnection();
                  Statement s = c.createStatement();
                  ResultSet rs =
                      s.executeQuery(
                          "select count(*) from "
                              + JdbcTokenStore.DEFAULT_TABLE
                              + " where connection_id = 'naver:self'")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
              }
            });
  }
}
