package dev.tokenbroker.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import redis.embedded.RedisServer;

/**
 * The Redis the tests run against: a real server the tests start themselves
 * (com.github.codemonstur:embedded-redis), or the one named by {@code TOKENBROKER_TEST_REDIS_URL}
 * when set. Tests keep apart by key prefix.
 */
final class TestRedis {
  static final String URL_ENV = "TOKENBROKER_TEST_REDIS_URL";

  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private static @Nullable String url;
  private static @Nullable StatefulRedisConnection<String, String> connection;

  private TestRedis() {}

  static synchronized String url() {
    if (url == null) {
      String external = System.getenv(URL_ENV);
      if (external != null && !external.isBlank()) {
        url = external;
      } else {
        try {
          int port;
          try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
          }
          RedisServer server =
              RedisServer.newRedisServer()
                  .port(port)
                  .bind("127.0.0.1")
                  .setting("appendonly no")
                  .setting("save \"\"")
                  .build();
          server.start();
          Runtime.getRuntime()
              .addShutdownHook(
                  new Thread(
                      () -> {
                        try {
                          server.stop();
                        } catch (IOException e) {
                          // the JVM is going away
                        }
                      }));
          url = "redis://127.0.0.1:" + port;
        } catch (IOException e) {
          throw new UncheckedIOException("cannot start embedded Redis", e);
        }
      }
    }
    return url;
  }

  /** A connection shared by the tests of this JVM. */
  static synchronized StatefulRedisConnection<String, String> connection() {
    if (connection == null) {
      connection = RedisClient.create(url()).connect(StringCodec.UTF8);
    }
    return connection;
  }

  /** A key prefix no other test uses. */
  static String freshPrefix() {
    return "tbtest:" + ProcessHandle.current().pid() + ":" + PREFIXES.incrementAndGet() + ":";
  }
}
