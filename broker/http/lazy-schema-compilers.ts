/**
 * Route schemas compiled on first use instead of at startup.
 *
 * fastify compiles every route's JSON schemas (ajv validators, fast-json-stringify serializers)
 * while the app becomes ready: about a third of the broker's cold start, for routes most runs
 * never call. These factories wrap fastify's own compilers (the same packages, the same options)
 * so that each schema is compiled the first time a request needs it and kept from then on. The
 * first request of a route pays a millisecond or two once; startup pays nothing.
 */

import AjvCompiler from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';

type ValidatorFactory = AjvCompiler.BuildCompilerFromPool;
type ValidatorCompiler = ReturnType<ValidatorFactory>;
type Validate = ReturnType<ValidatorCompiler>;
type SerializerFactory = SerializerSelector.SerializerFactory;
type Serializer = SerializerSelector.Serializer;

/** fastify's validator factory, compiling each route schema on its first request. */
export function lazyValidatorFactory(): ValidatorFactory {
  const factory = AjvCompiler();
  return (externalSchemas, options) => {
    const compile = factory(externalSchemas, options);
    return (route) => {
      let validate: Validate | null = null;
      // fastify reads `.errors` from the function it called, as ajv validators expose them.
      const lazy = ((data: unknown) => {
        validate ??= compile(route);
        const result = validate(data);
        lazy.errors = validate.errors;
        return result;
      }) as Validate;
      return lazy;
    };
  };
}

/** fastify's serializer factory, compiling each response schema on its first response. */
export function lazySerializerFactory(): SerializerFactory {
  const factory = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = factory(externalSchemas, options);
    return (route) => {
      let serialize: Serializer | null = null;
      return (data) => (serialize ??= compile(route))(data);
    };
  };
}
