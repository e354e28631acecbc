package dev.tokenbroker.benchmarks;

import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import javax.net.ServerSocketFactory;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What {@link TokenBroker#interceptor} adds to an API call, compared with an interceptor that sets
 * a fixed {@code Authorization} header (what an application would write by hand around a token it
 * already holds). The difference between the two is the broker's overhead per call.
 *
 * <ul>
 *   <li>{@code http*}: a real OkHttp call over loopback to a MockWebServer answering {@code 200}
 *       (keep-alive, so no connection set-up is measured). The difference is small next to the
 *       round trip and within its noise; see the {@code chain*} pair for the exact cost.
 *   <li>{@code chain*}: the interceptor alone, against a stub chain that answers {@code 200} at
 *       once.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class InterceptorBenchmark {

  private TokenBroker broker;
  private MockWebServer server;
  private OkHttpClient viaBroker;
  private OkHttpClient viaFixedHeader;
  private Request request;
  private Interceptor brokerInterceptor;
  private Interceptor fixedHeaderInterceptor;
  private StubChain chain;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    ConnectionId id = ConnectionId.of(LocalTokenProvider.NAME, "shop");
    Clock clock = Clock.systemUTC();
    broker =
        TokenBroker.builder()
            .withoutKeepAlive()
            .clock(clock)
            .connection(id, new LocalTokenProvider(clock))
            .build();
    String authorization = "Bearer " + broker.accessToken(id); // warm: FRESH from now on

    server = new MockWebServer();
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest recorded) {
            return new MockResponse().setBody("{}");
          }
        });
    server.start();

    brokerInterceptor = broker.interceptor(id);
    fixedHeaderInterceptor =
        c -> c.proceed(c.request().newBuilder().header("Authorization", authorization).build());
    OkHttpClient base = new OkHttpClient();
    viaBroker = base.newBuilder().addInterceptor(brokerInterceptor).build();
    viaFixedHeader = base.newBuilder().addInterceptor(fixedHeaderInterceptor).build();
    request = new Request.Builder().url(server.url("/api/v2/products")).build();
    chain = new StubChain(request);
  }

  /** MockWebServer keeps every request it saw; drop them so they do not pile up on the heap. */
  @TearDown(Level.Iteration)
  public void drainRecordedRequests() throws InterruptedException {
    while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
      // discard
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    server.shutdown();
    for (OkHttpClient c : new OkHttpClient[] {viaBroker, viaFixedHeader}) {
      c.dispatcher().executorService().shutdown();
      c.connectionPool().evictAll();
    }
    broker.close();
  }

  @Benchmark
  public int httpWithBrokerInterceptor() throws IOException {
    return call(viaBroker);
  }

  @Benchmark
  public int httpWithFixedHeader() throws IOException {
    return call(viaFixedHeader);
  }

  @Benchmark
  public Response chainWithBrokerInterceptor() throws IOException {
    return brokerInterceptor.intercept(chain);
  }

  @Benchmark
  public Response chainWithFixedHeader() throws IOException {
    return fixedHeaderInterceptor.intercept(chain);
  }

  private int call(OkHttpClient client) throws IOException {
    try (Response response = client.newCall(request).execute()) {
      ResponseBody body = response.body();
      if (!response.isSuccessful() || body == null) {
        throw new IOException("unexpected response " + response.code());
      }
      return body.string().length();
    }
  }

  /**
   * Server sockets whose connections send small writes at once. MockWebServer writes a response's
   * head and body separately; with Nagle's algorithm the body then waits for the client's delayed
   * ACK (about 40 ms on Linux loopback), which would swamp everything measured here.
   */
  private static final class NoDelayServerSocketFactory extends ServerSocketFactory {
    @Override
    public ServerSocket createServerSocket() throws IOException {
      return new ServerSocket() {
        @Override
        public Socket accept() throws IOException {
          Socket socket = super.accept();
          socket.setTcpNoDelay(true);
          return socket;
        }
      };
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
      throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog) throws IOException {
      throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
    }

    @Override
    public ServerSocket createServerSocket(int port, int backlog, InetAddress address)
        throws IOException {
      throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
    }
  }

  /** A chain whose {@link #proceed} answers {@code 200} at once, without I/O. */
  private static final class StubChain implements Interceptor.Chain {
    private final Request request;
    private final Response ok;

    StubChain(Request request) {
      this.request = request;
      this.ok =
          new Response.Builder()
              .request(request)
              .protocol(Protocol.HTTP_1_1)
              .code(200)
              .message("OK")
              .build();
    }

    @Override
    public Request request() {
      return request;
    }

    @Override
    public Response proceed(Request request) {
      return ok;
    }

    @Override
    public @Nullable Connection connection() {
      return null;
    }

    @Override
    public Call call() {
      throw new UnsupportedOperationException("stub chain has no call");
    }

    @Override
    public int connectTimeoutMillis() {
      return 10_000;
    }

    @Override
    public Interceptor.Chain withConnectTimeout(int timeout, TimeUnit unit) {
      return this;
    }

    @Override
    public int readTimeoutMillis() {
      return 10_000;
    }

    @Override
    public Interceptor.Chain withReadTimeout(int timeout, TimeUnit unit) {
      return this;
    }

    @Override
    public int writeTimeoutMillis() {
      return 10_000;
    }

    @Override
    public Interceptor.Chain withWriteTimeout(int timeout, TimeUnit unit) {
      return this;
    }
  }
}
