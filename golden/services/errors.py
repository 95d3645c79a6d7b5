class ServiceError(ValueError):
    """A request the master data cannot honour; the message names the problem."""


class MergeError(ServiceError):
    pass


class SplitError(ServiceError):
    pass


class OverrideError(ServiceError):
    pass


class RetireError(ServiceError):
    pass


class NotFound(ServiceError, LookupError):
    pass
