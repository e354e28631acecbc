package dev.tokenbroker.serve;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A tiny HTTP/1.1 client over a Unix socket or loopback TCP: one request per connection, any header
 * (Host included) as given. What curl --unix-socket and a script would do.
 */
final class RawHttp {
  record Reply(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private RawHttp() {}

  static Reply unix(Path socket, String method, String path, String... headers) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      return exchange(
          Channels.newInputStream(ch), Channels.newOutputStream(ch), method, path, headers);
    }
  }

  static Reply tcp(int port, String method, String path, String... headers) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(30_000);
      return exchange(s.getInputStream(), s.getOutputStream(), method, path, headers);
    }
  }

  /** Headers as "Name: value"; Host defaults to localhost unless one is given. */
  static Reply exchange(
      InputStream in, OutputStream out, String method, String path, String... headers)
      throws IOException {
    StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
    boolean host = false;
    for (String h : headers) {
      host |= h.toLowerCase(Locale.ROOT).startsWith("host:");
      req.append(h).append("\r\n");
    }
    if (!host) {
      req.append("Host: localhost\r\n");
    }
    if (method.equals("POST")) {
      req.append("Content-Length: 0\r\n");
    }
    req.append("Connection: close\r\n\r\n");
    out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    return parse(all.toString(StandardCharsets.UTF_8));
  }

  static Reply parse(String raw) {
    int end = raw.indexOf("\r\n\r\n");
    String head = end < 0 ? raw : raw.substring(0, end);
    String body = end < 0 ? "" : raw.substring(end + 4);
    String[] lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).trim());
    }
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      StringBuilder b = new StringBuilder();
      String rest = body;
      while (true) {
        int nl = rest.indexOf("\r\n");
        int size = Integer.parseInt(rest.substring(0, nl).trim(), 16);
        if (size == 0) {
          break;
        }
        b.append(rest, nl + 2, nl + 2 + size);
        rest = rest.substring(nl + 2 + size + 2);
      }
      body = b.toString();
    }
    return new Reply(status, headers, body);
  }
}
