from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DenseNdArrayProto(_message.Message):
    __slots__ = ("buffer", "shape", "dtype")
    BUFFER_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    buffer: bytes
    shape: _containers.RepeatedScalarFieldContainer[int]
    dtype: str
    def __init__(self, buffer: _Optional[bytes] = ..., shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[str] = ...) -> None: ...

class NdArrayProto(_message.Message):
    __slots__ = ("dense", "parameters")
    DENSE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    dense: DenseNdArrayProto
    parameters: _struct_pb2.Struct
    def __init__(self, dense: _Optional[_Union[DenseNdArrayProto, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class KeyValuePair(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: _struct_pb2.Value
    value: _struct_pb2.Value
    def __init__(self, key: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class GenericDictValue(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[KeyValuePair]
    def __init__(self, entries: _Optional[_Iterable[_Union[KeyValuePair, _Mapping]]] = ...) -> None: ...

class NodeProto(_message.Message):
    __slots__ = ("text", "integer", "float", "boolean", "blob", "ndarray", "doc", "doc_array", "list", "set", "tuple", "dict", "type")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    FLOAT_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    NDARRAY_FIELD_NUMBER: _ClassVar[int]
    DOC_FIELD_NUMBER: _ClassVar[int]
    DOC_ARRAY_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    SET_FIELD_NUMBER: _ClassVar[int]
    TUPLE_FIELD_NUMBER: _ClassVar[int]
    DICT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    text: str
    integer: int
    float: float
    boolean: bool
    blob: bytes
    ndarray: NdArrayProto
    doc: DocProto
    doc_array: DocListProto
    list: ListOfAnyProto
    set: ListOfAnyProto
    tuple: ListOfAnyProto
    dict: DictOfAnyProto
    type: str
    def __init__(self, text: _Optional[str] = ..., integer: _Optional[int] = ..., float: _Optional[float] = ..., boolean: _Optional[bool] = ..., blob: _Optional[bytes] = ..., ndarray: _Optional[_Union[NdArrayProto, _Mapping]] = ..., doc: _Optional[_Union[DocProto, _Mapping]] = ..., doc_array: _Optional[_Union[DocListProto, _Mapping]] = ..., list: _Optional[_Union[ListOfAnyProto, _Mapping]] = ..., set: _Optional[_Union[ListOfAnyProto, _Mapping]] = ..., tuple: _Optional[_Union[ListOfAnyProto, _Mapping]] = ..., dict: _Optional[_Union[DictOfAnyProto, _Mapping]] = ..., type: _Optional[str] = ...) -> None: ...

class DocProto(_message.Message):
    __slots__ = ("data",)
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: NodeProto
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[NodeProto, _Mapping]] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _containers.MessageMap[str, NodeProto]
    def __init__(self, data: _Optional[_Mapping[str, NodeProto]] = ...) -> None: ...

class DictOfAnyProto(_message.Message):
    __slots__ = ("data",)
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: NodeProto
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[NodeProto, _Mapping]] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _containers.MessageMap[str, NodeProto]
    def __init__(self, data: _Optional[_Mapping[str, NodeProto]] = ...) -> None: ...

class ListOfAnyProto(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _containers.RepeatedCompositeFieldContainer[NodeProto]
    def __init__(self, data: _Optional[_Iterable[_Union[NodeProto, _Mapping]]] = ...) -> None: ...

class DocListProto(_message.Message):
    __slots__ = ("docs",)
    DOCS_FIELD_NUMBER: _ClassVar[int]
    docs: _containers.RepeatedCompositeFieldContainer[DocProto]
    def __init__(self, docs: _Optional[_Iterable[_Union[DocProto, _Mapping]]] = ...) -> None: ...
