package dev.tokenbroker.spi;

import java.util.Locale;
import okhttp3.HttpUrl;

/**
 * The checks {@link Settings} makes of URLs: base URLs and redirect URIs are absolute, {@code
 * https}, or {@code http} on a loopback host only (tests, emulators). A loopback host is recognized
 * by parsing it as an address literal, never by prefix and never by a name lookup. Errors name the
 * setting through {@link Settings#invalid} and never repeat the value.
 */
final class UrlChecks {
  private UrlChecks() {}

  /** {@code value} parsed as a base URL, as {@link Settings#checkedUrl} describes. */
  static HttpUrl baseUrl(Settings settings, String key, String value) {
    HttpUrl url = HttpUrl.parse(value);
    if (url == null) {
      throw settings.invalid(key, "must be an absolute http(s) URL");
    }
    if (!url.isHttps() && !isLoopback(url.host())) {
      throw settings.invalid(
          key, "must use https (plain http is accepted only for localhost and 127.0.0.1)");
    }
    return url;
  }

  /** {@code value} parsed as a redirect URI, as {@link Settings#redirectUri} describes. */
  static HttpUrl redirectUri(Settings settings, String key, String value) {
    HttpUrl url = HttpUrl.parse(value);
    if (url == null) {
      throw settings.invalid(key, "must be an absolute http(s) URL, as registered with the app");
    }
    if (!url.isHttps() && !isLoopback(url.host())) {
      throw settings.invalid(
          key,
          "must use https (plain http is accepted only for a loopback host such as localhost or"
              + " 127.0.0.1)");
    }
    if (url.fragment() != null) {
      throw settings.invalid(key, "must not contain a fragment (#…)");
    }
    return url;
  }

  /** Whether {@code host} is a loopback address or {@code localhost}; see {@link Settings}. */
  static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.equals("localhost")) {
      return true;
    }
    if (h.indexOf(':') >= 0) {
      return isLoopbackIpv6(h);
    }
    String[] parts = h.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return false;
      }
      if (Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return Integer.parseInt(parts[0]) == 127;
  }

  private static boolean isLoopbackIpv6(String h) {
    if (!h.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
      return false; // not a literal (zone ids and names are not loopback here)
    }
    try {
      // A literal of hex digits, colons and dots is parsed without any name lookup.
      return java.net.InetAddress.getByName(h).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}
