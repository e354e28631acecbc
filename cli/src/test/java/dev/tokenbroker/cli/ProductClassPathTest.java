package dev.tokenbroker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: test tools stay out of the product. This test's own class path may hold the testkit's
 * test jar (the {@code oauth2-test} provider) and test libraries, legitimately; so it rebuilds the
 * class path the CLI jar is shaded from — this module's classes plus its compile and runtime
 * dependencies, written by the dependency plugin to {@code target/runtime-classpath.txt} — in a
 * class loader of its own, and looks there. The enforcer's {@code bannedDependencies} rule in the
 * pom catches the same mistakes by coordinates; this catches them by what the JVM would find.
 */
class ProductClassPathTest {

  private static URLClassLoader productLoader() throws Exception {
    Path listing = Path.of("target", "runtime-classpath.txt");
    assertThat(listing).as("written by maven-dependency-plugin:build-classpath").exists();
    List<URL> urls = new ArrayList<>();
    urls.add(Main.class.getProtectionDomain().getCodeSource().getLocation());
    for (String entry :
        Files.readString(listing, StandardCharsets.UTF_8).trim().split(File.pathSeparator)) {
      if (!entry.isBlank()) {
        urls.add(Path.of(entry).toUri().toURL());
      }
    }
    return new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
  }

  @Test
  void theProductsProviders_areThePlatformsAndNoTestProvider() throws Exception {
    List<String> names = new ArrayList<>();
    try (URLClassLoader loader = productLoader()) {
      Class<?> factory = Class.forName("dev.tokenbroker.spi.TokenProviderFactory", false, loader);
      for (Object f : ServiceLoader.load(factory, loader)) {
        names.add((String) factory.getMethod("name").invoke(f));
      }
    }

    assertThat(names).contains("cafe24", "naver", "kakao").doesNotContain("oauth2-test");
  }

  @Test
  void theProduct_carriesNoTestLibrary_butTheDemoEmulators() throws Exception {
    try (URLClassLoader loader = productLoader()) {
      assertThat(loader.getResource("okhttp3/mockwebserver/MockWebServer.class")).isNull();
      assertThat(loader.getResource("junit/framework/TestCase.class")).isNull();
      assertThat(loader.getResource("org/junit/Test.class")).isNull();
      assertThat(loader.getResource("org/junit/jupiter/api/Test.class")).isNull();
      assertThat(loader.getResource("org/assertj/core/api/Assertions.class")).isNull();
      assertThat(loader.getResource("dev/tokenbroker/testkit/OAuth2TestProvider.class")).isNull();
      // what `tokenbroker demo` needs is there
      assertThat(loader.getResource("dev/tokenbroker/testkit/cafe24/Cafe24Emulator.class"))
          .isNotNull();
    }
  }
}
