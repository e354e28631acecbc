package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenEvent;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.ForwardingTokenStore;
import dev.tokenbroker.store.Lease;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.testkit.FakeClock;
import dev.tokenbroker.testkit.OAuth2Emulator;
import dev.tokenbroker.testkit.OAuth2TestProvider;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * PostgreSQL kills every session (pg_terminate_backend, as a failover or an administrator does)
 * while a broker saves the rotated token set it just got from a platform whose refresh tokens
 * rotate: the set is kept in memory with its lease — no other instance renews from the stored set,
 * whose refresh token is spent — and saved once the database answers again; nothing is ever
 * answered {@code invalid_grant}.
 *
 * <p>The instance that saves uses a pool of one connection that it hands out without checking it
 * (as a pool does within its alive-bypass window), so the save runs on the session just killed; its
 * retries wait at a latch until the test has looked at the lease. The other instances open a
 * connection per call. Everything runs in a database of its own, so killing its sessions touches no
 * other test.
 */
class PostgresBrokerFaultTest {
  private static final ConnectionId ID = ConnectionId.of("oauth2-test", "shop");
  private static final String CLIENT = "app";
  private static final String SECRET = "s3cret";

  private final FakeClock clock = FakeClock.at(Instant.parse("2026-03-01T00:00:00Z"));
  private final OAuth2Emulator platform =
      new OAuth2Emulator(clock).registerClient(CLIENT, SECRET).start();
  private final List<TokenBroker> brokers = new ArrayList<>();
  private final List<TokenEvent> events = new CopyOnWriteArrayList<>();
  private final CountDownLatch saved = new CountDownLatch(1);
  private String database;
  private String url;
  private String table;
  private OneSession oneSession;

  @BeforeEach
  void createDatabase() throws SQLException {
    String admin = TestDatabases.postgresUrl();
    database = "tb_fault_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
    try (Connection c = DriverManager.getConnection(admin);
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + database);
    }
    url = admin.replaceFirst("/postgres(\\?|$)", "/" + database + "$1");
    assertThat(url).contains(database);
    table = TestDatabases.freshTable();
    oneSession = new OneSession(url);
  }

  @AfterEach
  void tearDown() throws SQLException {
    brokers.forEach(TokenBroker::close);
    oneSession.close();
    platform.close();
    try (Connection c = DriverManager.getConnection(TestDatabases.postgresUrl());
        Statement st = c.createStatement()) {
      killSessions(st, database);
      st.execute("DROP DATABASE IF EXISTS " + database);
    }
  }

  /**
   * Terminates every client session of {@code db} but the caller's and returns once they are gone
   * (looking, not sleeping): a pool then still holds its connection, and hands it out unchecked if
   * it was used within the last half second (HikariCP's alive-bypass window).
   */
  private static int killSessions(Statement st, String db) throws SQLException {
    String others =
        " FROM pg_stat_activity WHERE datname = '"
            + db
            + "' AND pid <> pg_backend_pid() AND backend_type = 'client backend'";
    int killed = 0;
    try (ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(pid)" + others)) {
      while (rs.next()) {
        if (rs.getBoolean(1)) {
          killed++;
        }
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (ResultSet rs = st.executeQuery("SELECT count(*)" + others)) {
        rs.next();
        if (rs.getLong(1) == 0) {
          return killed;
        }
      }
    }
    throw new IllegalStateException("killed sessions of " + db + " did not end");
  }

  private int killAllOtherSessions() {
    try (Connection c = DriverManager.getConnection(url);
        Statement st = c.createStatement()) {
      return killSessions(st, database);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A store opening a connection per call: what the kill leaves behind does not matter to it. */
  private JdbcTokenStore unpooledStore() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    return JdbcTokenStore.builder(ds).table(table).clock(clock).build();
  }

  private TokenBroker instance(String name, TokenStore store) {
    TokenBroker b =
        TokenBroker.builder()
            .clock(clock)
            .store(store)
            .instanceId(name)
            .connection(
                ID,
                OAuth2TestProvider.builder()
                    .baseUrl(platform.baseUrl())
                    .client(CLIENT, SECRET)
                    .redirectUri("http://127.0.0.1/callback")
                    .clock(clock)
                    .build())
            .listener(events::add)
            .listener(
                e -> {
                  if (e.type() == TokenEvent.Type.SAVE_RECOVERED) {
                    saved.countDown();
                  }
                })
            .executor(Runnable::run)
            .backoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .lease(Duration.ofSeconds(90), Duration.ofMillis(300))
            .withoutKeepAlive()
            .build();
    brokers.add(b);
    return b;
  }

  private long count(TokenEvent.Type type) {
    return events.stream().filter(e -> e.type() == type).count();
  }

  @Test
  void sessionsKilledWhileTheRotatedSetIsSaved_itIsKeptWithItsLeaseAndSavedLater()
      throws Exception {
    JdbcTokenStore pooled = JdbcTokenStore.builder(oneSession).table(table).clock(clock).build();
    CountDownLatch letRetriesThrough = new CountDownLatch(1);
    AtomicInteger saves = new AtomicInteger();
    AtomicInteger killed = new AtomicInteger();
    TokenStore saving =
        new ForwardingTokenStore(pooled) {
          @Override
          public TokenSet compareAndSet(
              ConnectionId id, long expectedVersion, TokenSet tokens, Lease lease) {
            int n = saves.incrementAndGet();
            if (n == 1) {
              killed.set(killAllOtherSessions()); // the platform has rotated; the save is next
            } else {
              await(letRetriesThrough);
            }
            return super.compareAndSet(id, expectedVersion, tokens, lease);
          }
        };
    TokenSet seeded = platform.seed(pooled, ID, CLIENT);
    TokenStore probe = unpooledStore();
    TokenBroker a = instance("instance-a", saving);
    TokenBroker b = instance("instance-b", unpooledStore());
    TokenBroker c = instance("instance-c", unpooledStore());
    for (TokenBroker x : List.of(a, b, c)) {
      assertThat(x.accessToken(ID)).isEqualTo(seeded.accessToken());
    }
    clock.advance(Duration.ofHours(2));

    String renewed = a.accessToken(ID);
    assertThat(killed.get()).as("sessions killed mid-save").isGreaterThanOrEqualTo(1);
    assertThat(count(TokenEvent.Type.SAVE_FAILED))
        .as("the save hit the killed session")
        .isEqualTo(1);
    assertThat(platform.isAccessTokenValid(renewed)).as("the rotated set is served").isTrue();
    assertThat(a.health(ID).unsaved()).isTrue();
    assertThat(probe.load(ID).accessToken())
        .as("the store still holds the old set")
        .isEqualTo(seeded.accessToken());
    assertThat(probe.tryAcquireLease(ID, "probe", Duration.ofSeconds(5), 0))
        .as("the unsaved set keeps its lease")
        .isNull();

    // The others find the lease held and never renew from the spent refresh token.
    for (TokenBroker x : List.of(b, c)) {
      try {
        x.accessToken(ID);
      } catch (dev.tokenbroker.TokenUnavailableException expected) {
        // waited for the lease, which the unsaved set keeps
      }
    }
    assertThat(platform.tokenRequests(OAuth2Emulator.REFRESH_TOKEN)).isEqualTo(1);

    letRetriesThrough.countDown();
    assertThat(saved.await(20, TimeUnit.SECONDS)).as("saved once the database answers").isTrue();
    TokenSet stored = probe.load(ID);
    assertThat(stored.accessToken()).isEqualTo(renewed);
    assertThat(stored.version()).isEqualTo(seeded.version() + 1);
    assertThat(platform.isRefreshTokenValid(stored.refreshToken())).isTrue();
    assertThat(b.accessToken(ID)).isEqualTo(renewed);
    assertThat(c.accessToken(ID)).isEqualTo(renewed);
    assertThat(a.health(ID).unsaved()).isFalse();

    clock.advance(Duration.ofHours(2));
    String next = c.accessToken(ID);
    assertThat(b.accessToken(ID)).isEqualTo(next);
    assertThat(a.accessToken(ID)).isEqualTo(next);
    assertThat(platform.tokenRequests(OAuth2Emulator.REFRESH_TOKEN)).isEqualTo(2);
    assertThat(platform.invalidGrantAnswers()).as("invalid_grant answers").isZero();
    assertThat(count(TokenEvent.Type.REAUTHORIZATION_REQUIRED)).isZero();
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never let the save retries through");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A pool of one session, lent to one borrower at a time and handed out unchecked, as a pool does
   * with a connection used moments ago; a session that failed is replaced at the next borrow.
   */
  static final class OneSession implements DataSource, AutoCloseable {
    private final String url;
    private final Semaphore free = new Semaphore(1);
    private @Nullable Connection session; // guarded by free

    OneSession(String url) {
      this.url = url;
    }

    @Override
    public Connection getConnection() throws SQLException {
      try {
        if (!free.tryAcquire(30, TimeUnit.SECONDS)) {
          throw new SQLException("the one session was not given back");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SQLException(e);
      }
      Connection c;
      try {
        if (session == null || session.isClosed()) {
          session = DriverManager.getConnection(url);
        }
        c = session;
      } catch (SQLException | RuntimeException e) {
        free.release();
        throw e;
      }
      AtomicBoolean failed = new AtomicBoolean();
      AtomicBoolean returned = new AtomicBoolean();
      return (Connection)
          Proxy.newProxyInstance(
              Connection.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                if (method.getName().equals("close")) {
                  if (returned.compareAndSet(false, true)) {
                    giveBack(c, failed.get());
                  }
                  return null;
                }
                try {
                  return method.invoke(c, args);
                } catch (InvocationTargetException e) {
                  failed.set(true);
                  throw e.getCause();
                }
              });
    }

    private void giveBack(Connection c, boolean failed) {
      try {
        if (failed) {
          c.close(); // replaced at the next borrow
        } else if (!c.getAutoCommit()) {
          c.rollback();
          c.setAutoCommit(true);
        }
      } catch (SQLException e) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // replaced at the next borrow
        }
      } finally {
        free.release();
      }
    }

    @Override
    public void close() throws SQLException {
      if (session != null) {
        session.close();
      }
    }

    @Override
    public Connection getConnection(String username, String password) {
      throw new UnsupportedOperationException();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}
