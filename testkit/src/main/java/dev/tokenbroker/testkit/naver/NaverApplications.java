package dev.tokenbroker.testkit.naver;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The applications the {@link NaverEmulator} knows: each one's bcrypt-salt secret, the sellers
 * linked to it, which ones are agency applications (API대행사), and whether each kind is held to its
 * own path prefix. Thread-safe.
 */
final class NaverApplications {
  private final Map<String, String> secrets = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> sellers = new ConcurrentHashMap<>();
  private final Set<String> agencies = ConcurrentHashMap.newKeySet();
  volatile boolean enforceAgencyPaths = true;

  void register(String clientId, String clientSecret) {
    secrets.put(clientId, clientSecret);
  }

  void markAgency(String clientId) {
    agencies.add(clientId);
  }

  void linkSeller(String clientId, String accountId) {
    sellers
        .computeIfAbsent(Objects.requireNonNull(clientId), k -> ConcurrentHashMap.newKeySet())
        .add(Objects.requireNonNull(accountId));
  }

  @Nullable String secret(String clientId) {
    return secrets.get(clientId);
  }

  boolean isAgency(String clientId) {
    return agencies.contains(clientId);
  }

  boolean isSellerLinked(String clientId, String accountId) {
    return sellers.getOrDefault(clientId, Set.of()).contains(accountId);
  }
}
