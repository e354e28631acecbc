package dev.tokenbroker.spring;

import org.springframework.http.MediaType;

/**
 * The callback endpoint as a router function, for Spring MVC and for WebFlux (each in its own
 * nested class, so that only the stack the application has is loaded).
 */
final class CallbackRoutes {
  private CallbackRoutes() {}

  /** Spring MVC: the request thread exchanges the code. */
  static final class Servlet {
    private Servlet() {}

    static org.springframework.web.servlet.function.RouterFunction<
            org.springframework.web.servlet.function.ServerResponse>
        routes(String path, TokenBrokerCallback callback) {
      return org.springframework.web.servlet.function.RouterFunctions.route()
          .GET(
              path,
              request -> {
                TokenBrokerCallback.Answer a = callback.handle(request.uri().toString());
                return org.springframework.web.servlet.function.ServerResponse.status(a.status())
                    .contentType(MediaType.TEXT_PLAIN)
                    .body(a.body());
              })
          .build();
    }
  }

  /** WebFlux: the code exchange (a blocking HTTP call) runs off the event loop. */
  static final class Reactive {
    private Reactive() {}

    static org.springframework.web.reactive.function.server.RouterFunction<
            org.springframework.web.reactive.function.server.ServerResponse>
        routes(String path, TokenBrokerCallback callback) {
      return org.springframework.web.reactive.function.server.RouterFunctions.route()
          .GET(
              path,
              request ->
                  reactor.core.publisher.Mono.fromCallable(
                          () -> callback.handle(request.uri().toString()))
                      .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic())
                      .flatMap(
                          a ->
                              org.springframework.web.reactive.function.server.ServerResponse
                                  .status(a.status())
                                  .contentType(MediaType.TEXT_PLAIN)
                                  .bodyValue(a.body())))
          .build();
    }
  }
}
