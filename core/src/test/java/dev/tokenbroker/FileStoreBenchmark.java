package dev.tokenbroker;

import dev.tokenbroker.store.FileTokenStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A scenario runner, not a test: {@link StoreBenchmark} for the file store with encryption on. Run
 * with the test class path: {@code java -cp … dev.tokenbroker.FileStoreBenchmark [directory]} (the
 * directory's file system is what is measured; default: a temporary directory). Prints medians of
 * three rounds.
 */
public final class FileStoreBenchmark {
  private FileStoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path base = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("tokenbroker-bench");
    StoreBenchmark.run(
        "file store (" + base + ")",
        300,
        150,
        index -> {
          Path dir = base.resolve("round" + index);
          FileTokenStore store =
              FileTokenStore.builder(dir).encryption(StoreBenchmark.KEYS).build();
          return new StoreBenchmark.Round(
              store,
              // the record files, written directly (no fsync)
              (n, codec) -> {
                for (int i = 0; i < n; i++) {
                  ConnectionId id = StoreBenchmark.connection(i);
                  Files.write(
                      dir.resolve(FileTokenStore.baseName(id) + ".tokens"),
                      codec.encode(id, StoreBenchmark.record(i)));
                }
              },
              () -> {});
        });
  }
}
