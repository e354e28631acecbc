package dev.tokenbroker.testkit;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * A small HTTP/1.1 server on {@code 127.0.0.1}, on the JDK's sockets alone: one thread per
 * connection, keep-alive, {@code Content-Length} and chunked request bodies, one answer per
 * request.
 *
 * <p>Why not {@code com.sun.net.httpserver.HttpServer}: it overwrites every answer's {@code Date}
 * header with the machine's time, and the Naver emulator's {@code Date} must follow the emulated
 * server clock (its skew is what the Naver provider corrects by). Owning the socket also makes the
 * faults exact: a dropped connection is a close after the whole request was read, nothing else.
 */
final class LoopbackHttpServer implements Closeable {
  /** Answers one request; may block (a gate), may be interrupted when the server closes. */
  interface Handler {
    MockResponse handle(RecordedRequest request) throws InterruptedException;
  }

  private static final int MAX_LINE = 64 * 1024;
  private static final int MAX_BODY = 16 * 1024 * 1024;

  private final ServerSocket listener;
  private final Handler handler;
  private final ExecutorService threads;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger sequence = new AtomicInteger();
  private final HttpUrl base;
  private volatile boolean closed;

  private LoopbackHttpServer(ServerSocket listener, Handler handler, String name) {
    this.listener = listener;
    this.handler = handler;
    this.base = HttpUrl.get("http://127.0.0.1:" + listener.getLocalPort() + "/");
    AtomicInteger n = new AtomicInteger();
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, name + "-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** Listens on a free port of 127.0.0.1 and starts accepting connections. */
  static LoopbackHttpServer start(String name, Handler handler) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 128);
    LoopbackHttpServer server = new LoopbackHttpServer(listener, handler, name);
    server.threads.execute(server::acceptLoop);
    return server;
  }

  int port() {
    return listener.getLocalPort();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (Socket s : open) {
      closeQuietly(s);
    }
    threads.shutdownNow();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      open.add(socket);
      try {
        threads.execute(() -> serve(socket));
      } catch (RuntimeException rejected) { // closing
        open.remove(socket);
        closeQuietly(socket);
      }
    }
  }

  /** One connection: requests one after the other until the client or a fault closes it. */
  private void serve(Socket socket) {
    try (socket) {
      socket.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = new BufferedOutputStream(socket.getOutputStream());
      while (!closed) {
        String requestLine = readLine(in);
        if (requestLine == null) {
          return; // the client closed an idle connection
        }
        if (requestLine.isEmpty()) {
          continue; // a stray CRLF between requests is allowed (RFC 9112 §2.2)
        }
        String[] parts = requestLine.split(" ", -1);
        if (parts.length != 3 || !parts[1].startsWith("/")) {
          write(out, new MockResponse().setResponseCode(400), false);
          return;
        }
        Headers headers = readHeaders(in);
        if ("100-continue".equalsIgnoreCase(headers.get("Expect"))) {
          out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
        byte[] body = readBody(in, headers);
        HttpUrl url = base.resolve(parts[1]);
        if (url == null || !url.host().equals(base.host())) { // "//elsewhere/..." is no path
          write(out, new MockResponse().setResponseCode(400), false);
          return;
        }
        RecordedRequest request =
            new RecordedRequest(
                parts[0], parts[1], parts[2], headers, body, url, sequence.getAndIncrement());
        MockResponse response = answer(request);
        if (response.isDisconnect()) {
          return; // close without a word: the try-with-resources closes the socket
        }
        long delay = response.getHeadersDelay(TimeUnit.NANOSECONDS);
        if (delay > 0) {
          TimeUnit.NANOSECONDS.sleep(delay);
        }
        boolean keepAlive =
            "HTTP/1.1".equals(parts[2]) && !"close".equalsIgnoreCase(headers.get("Connection"));
        write(out, response, !"HEAD".equals(parts[0]));
        if (!keepAlive) {
          return;
        }
      }
    } catch (IOException | InterruptedException e) {
      // the client went away, a malformed request, or the emulator is closing: drop the connection
    } finally {
      open.remove(socket);
    }
  }

  private MockResponse answer(RecordedRequest request) throws InterruptedException {
    try {
      return handler.handle(request);
    } catch (RuntimeException e) {
      // A bug in an emulator: a 500 the test will see, naming the exception type only (a message
      // could quote a token).
      return new MockResponse()
          .setResponseCode(500)
          .setHeader("Content-Type", "text/plain;charset=utf-8")
          .setBody("emulator failed: " + e.getClass().getName());
    }
  }

  private static void write(OutputStream out, MockResponse response, boolean withBody)
      throws IOException {
    int code = response.getCode();
    byte[] body = response.bodyBytes();
    StringBuilder head =
        new StringBuilder("HTTP/1.1 ").append(code).append(' ').append(reason(code)).append("\r\n");
    Headers headers = response.getHeaders();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (name.equalsIgnoreCase("Content-Length") || name.equalsIgnoreCase("Transfer-Encoding")) {
        continue; // framing is ours
      }
      head.append(name).append(": ").append(headers.value(i)).append("\r\n");
    }
    boolean bodyAllowed = code >= 200 && code != 204 && code != 304;
    if (bodyAllowed) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    out.write(head.toString().getBytes(StandardCharsets.UTF_8));
    if (bodyAllowed && withBody) {
      out.write(body);
    }
    out.flush();
  }

  private static String reason(int code) {
    switch (code / 100) {
      case 1:
        return "Informational";
      case 2:
        return "OK";
      case 3:
        return "Redirection";
      case 4:
        return "Client Error";
      case 5:
        return "Server Error";
      default:
        return "Emulator Response";
    }
  }

  private static Headers readHeaders(InputStream in) throws IOException {
    Headers.Builder headers = new Headers.Builder();
    while (true) {
      String line = readLine(in);
      if (line == null) {
        throw new EOFException("connection closed inside the headers");
      }
      if (line.isEmpty()) {
        return headers.build();
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new IOException("malformed header line");
      }
      headers.addUnsafeNonAscii(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
  }

  private static byte[] readBody(InputStream in, Headers headers) throws IOException {
    String encoding = headers.get("Transfer-Encoding");
    if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String sizeLine = readLine(in);
        if (sizeLine == null) {
          throw new EOFException("connection closed inside a chunked body");
        }
        int semicolon = sizeLine.indexOf(';');
        int size =
            Integer.parseInt(
                (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
        if (size == 0) {
          while (true) { // trailers, up to the empty line
            String trailer = readLine(in);
            if (trailer == null || trailer.isEmpty()) {
              return body.toByteArray();
            }
          }
        }
        if (body.size() + size > MAX_BODY) {
          throw new IOException("request body too large");
        }
        body.write(readExactly(in, size));
        readLine(in); // the CRLF after the chunk
      }
    }
    String length = headers.get("Content-Length");
    if (length == null) {
      return new byte[0];
    }
    long n;
    try {
      n = Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      throw new IOException("malformed Content-Length");
    }
    if (n < 0 || n > MAX_BODY) {
      throw new IOException("Content-Length out of range");
    }
    return readExactly(in, (int) n);
  }

  private static byte[] readExactly(InputStream in, int n) throws IOException {
    byte[] bytes = in.readNBytes(n);
    if (bytes.length != n) {
      throw new EOFException("connection closed inside the body");
    }
    return bytes;
  }

  /** A line without its CRLF (or bare LF), UTF-8; null at the end of the stream before any byte. */
  private static @Nullable String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (line.size() == 0) {
          return null;
        }
        throw new EOFException("connection closed inside a line");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int end =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
      }
      if (line.size() >= MAX_LINE) {
        throw new IOException("line too long");
      }
      line.write(b);
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      // closing a test server: nothing useful to do
    }
  }
}
