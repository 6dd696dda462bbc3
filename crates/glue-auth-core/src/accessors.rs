//! The inner-service accessors every layer's service has.

/// Defines `get_ref`, `get_mut` and `into_inner` for a service struct whose
/// wrapped service is the field `inner` of type `S` (tower-http's pattern).
/// Used inside an `impl<S, …> Service<S, …>` block.
#[doc(hidden)]
#[macro_export]
macro_rules! define_inner_service_accessors {
    () => {
        /// The wrapped service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The wrapped service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Unwraps the inner service.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}
