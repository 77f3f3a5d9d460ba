import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from loadgen.wire import docarray_pb2 as _docarray_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatusProto(_message.Message):
    __slots__ = ("code", "description", "exception")
    class StatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SUCCESS: _ClassVar[StatusProto.StatusCode]
        ERROR: _ClassVar[StatusProto.StatusCode]
    SUCCESS: StatusProto.StatusCode
    ERROR: StatusProto.StatusCode
    class ExceptionProto(_message.Message):
        __slots__ = ("name", "args", "stacks", "executor")
        NAME_FIELD_NUMBER: _ClassVar[int]
        ARGS_FIELD_NUMBER: _ClassVar[int]
        STACKS_FIELD_NUMBER: _ClassVar[int]
        EXECUTOR_FIELD_NUMBER: _ClassVar[int]
        name: str
        args: _containers.RepeatedScalarFieldContainer[str]
        stacks: _containers.RepeatedScalarFieldContainer[str]
        executor: str
        def __init__(self, name: _Optional[str] = ..., args: _Optional[_Iterable[str]] = ..., stacks: _Optional[_Iterable[str]] = ..., executor: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_FIELD_NUMBER: _ClassVar[int]
    code: StatusProto.StatusCode
    description: str
    exception: StatusProto.ExceptionProto
    def __init__(self, code: _Optional[_Union[StatusProto.StatusCode, str]] = ..., description: _Optional[str] = ..., exception: _Optional[_Union[StatusProto.ExceptionProto, _Mapping]] = ...) -> None: ...

class RouteProto(_message.Message):
    __slots__ = ("executor", "start_time", "end_time", "status")
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    executor: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    status: StatusProto
    def __init__(self, executor: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[StatusProto, _Mapping]] = ...) -> None: ...

class HeaderProto(_message.Message):
    __slots__ = ("request_id", "status", "exec_endpoint", "target_executor", "timeout")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXEC_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    TARGET_EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    status: StatusProto
    exec_endpoint: str
    target_executor: str
    timeout: int
    def __init__(self, request_id: _Optional[str] = ..., status: _Optional[_Union[StatusProto, _Mapping]] = ..., exec_endpoint: _Optional[str] = ..., target_executor: _Optional[str] = ..., timeout: _Optional[int] = ...) -> None: ...

class DataRequestProto(_message.Message):
    __slots__ = ("header", "parameters", "routes", "data")
    class DataContentProto(_message.Message):
        __slots__ = ("docs", "docs_bytes")
        DOCS_FIELD_NUMBER: _ClassVar[int]
        DOCS_BYTES_FIELD_NUMBER: _ClassVar[int]
        docs: _docarray_pb2.DocListProto
        docs_bytes: bytes
        def __init__(self, docs: _Optional[_Union[_docarray_pb2.DocListProto, _Mapping]] = ..., docs_bytes: _Optional[bytes] = ...) -> None: ...
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: HeaderProto
    parameters: _struct_pb2.Struct
    routes: _containers.RepeatedCompositeFieldContainer[RouteProto]
    data: DataRequestProto.DataContentProto
    def __init__(self, header: _Optional[_Union[HeaderProto, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., routes: _Optional[_Iterable[_Union[RouteProto, _Mapping]]] = ..., data: _Optional[_Union[DataRequestProto.DataContentProto, _Mapping]] = ...) -> None: ...

class EndpointsProto(_message.Message):
    __slots__ = ("endpoints", "write_endpoints", "schemas")
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    WRITE_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    SCHEMAS_FIELD_NUMBER: _ClassVar[int]
    endpoints: _containers.RepeatedScalarFieldContainer[str]
    write_endpoints: _containers.RepeatedScalarFieldContainer[str]
    schemas: _struct_pb2.Struct
    def __init__(self, endpoints: _Optional[_Iterable[str]] = ..., write_endpoints: _Optional[_Iterable[str]] = ..., schemas: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DataRequestProtoWoData(_message.Message):
    __slots__ = ("header", "parameters", "routes")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    header: HeaderProto
    parameters: _struct_pb2.Struct
    routes: _containers.RepeatedCompositeFieldContainer[RouteProto]
    def __init__(self, header: _Optional[_Union[HeaderProto, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., routes: _Optional[_Iterable[_Union[RouteProto, _Mapping]]] = ...) -> None: ...

class ReplyView(_message.Message):
    __slots__ = ("header", "routes", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: HeaderProto
    routes: _containers.RepeatedCompositeFieldContainer[RouteProto]
    data: DataView
    def __init__(self, header: _Optional[_Union[HeaderProto, _Mapping]] = ..., routes: _Optional[_Iterable[_Union[RouteProto, _Mapping]]] = ..., data: _Optional[_Union[DataView, _Mapping]] = ...) -> None: ...

class DataView(_message.Message):
    __slots__ = ("docs", "docs_bytes")
    DOCS_FIELD_NUMBER: _ClassVar[int]
    DOCS_BYTES_FIELD_NUMBER: _ClassVar[int]
    docs: DocListView
    docs_bytes: bytes
    def __init__(self, docs: _Optional[_Union[DocListView, _Mapping]] = ..., docs_bytes: _Optional[bytes] = ...) -> None: ...

class DocListView(_message.Message):
    __slots__ = ("docs",)
    DOCS_FIELD_NUMBER: _ClassVar[int]
    docs: _containers.RepeatedCompositeFieldContainer[DocView]
    def __init__(self, docs: _Optional[_Iterable[_Union[DocView, _Mapping]]] = ...) -> None: ...

class DocView(_message.Message):
    __slots__ = ("data",)
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: NodeView
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[NodeView, _Mapping]] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _containers.MessageMap[str, NodeView]
    def __init__(self, data: _Optional[_Mapping[str, NodeView]] = ...) -> None: ...

class NodeView(_message.Message):
    __slots__ = ("doc_array",)
    DOC_ARRAY_FIELD_NUMBER: _ClassVar[int]
    doc_array: MatchListView
    def __init__(self, doc_array: _Optional[_Union[MatchListView, _Mapping]] = ...) -> None: ...

class HeaderView(_message.Message):
    __slots__ = ("header",)
    HEADER_FIELD_NUMBER: _ClassVar[int]
    header: HeaderProto
    def __init__(self, header: _Optional[_Union[HeaderProto, _Mapping]] = ...) -> None: ...

class MatchListView(_message.Message):
    __slots__ = ("docs",)
    DOCS_FIELD_NUMBER: _ClassVar[int]
    docs: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, docs: _Optional[_Iterable[bytes]] = ...) -> None: ...

class MatchView(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _containers.RepeatedCompositeFieldContainer[MatchEntryView]
    def __init__(self, data: _Optional[_Iterable[_Union[MatchEntryView, _Mapping]]] = ...) -> None: ...

class MatchEntryView(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: ScalarView
    def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ScalarView, _Mapping]] = ...) -> None: ...

class ScalarView(_message.Message):
    __slots__ = ("text", "integer", "float", "boolean")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    FLOAT_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    text: str
    integer: int
    float: float
    boolean: bool
    def __init__(self, text: _Optional[str] = ..., integer: _Optional[int] = ..., float: _Optional[float] = ..., boolean: _Optional[bool] = ...) -> None: ...
