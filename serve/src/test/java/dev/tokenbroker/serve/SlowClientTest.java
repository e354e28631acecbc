package dev.tokenbroker.serve;

import static dev.tokenbroker.serve.Fixture.SHOP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokenbroker.store.InMemoryTokenStore;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client that stalls mid-request is cut off after the idle timeout; others are still served. */
class SlowClientTest {
  @TempDir Path dir;
  private Fixture fx;
  private TokenService service;
  private Path socket;

  @BeforeEach
  void start() {
    fx = new Fixture(dir);
    InMemoryTokenStore store = new InMemoryTokenStore(fx.clock);
    fx.seed(store, SHOP);
    socket = dir.resolve("tb.sock");
    service =
        fx.service(ServeConfig.builder().socket(socket).idleTimeout(Duration.ofSeconds(2)).build())
            .start(fx.broker(store));
  }

  @AfterEach
  void stop() {
    service.close();
    fx.close();
  }

  @Test
  void stalledRequest_isClosedByTheServer_andTheServiceStaysUp() throws Exception {
    try (SocketChannel slow = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      slow.connect(UnixDomainSocketAddress.of(socket));
      slow.write(
          ByteBuffer.wrap(
              "GET /v1/connections/oauth2-test:shop/token HTTP/1.1\r\nHost: loc"
                  .getBytes(StandardCharsets.US_ASCII)));
      // The rest never comes. A bounded wait for the server to give up on us.
      CompletableFuture<Integer> closed =
          CompletableFuture.supplyAsync(
              () -> {
                ByteBuffer buf = ByteBuffer.allocate(4096);
                try {
                  int n;
                  int total = 0;
                  while ((n = slow.read(buf)) >= 0) {
                    total += n;
                    buf.clear();
                  }
                  return total;
                } catch (IOException e) {
                  return -1;
                }
              });
      closed.get(20, TimeUnit.SECONDS);
      assertThat(closed).isCompleted();
    }

    RawHttp.Reply after = RawHttp.unix(socket, "GET", "/v1/connections/oauth2-test:shop/token");
    assertThat(after.status()).isEqualTo(200);
  }
}
