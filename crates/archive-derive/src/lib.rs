//! `#[derive(Serialize)]` for `mfc-archive`: field-by-field `Store` and `Load`,
//! and, with `#[mfc(class = "…", schema = N)]`, a `SerialClass`.
//!
//! Use it through `mfc_archive::Serialize`; its documentation is there.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitInt, LitStr};

/// Derives `mfc_archive::Store` and `mfc_archive::Load`, and `SerialClass` when
/// `#[mfc(class = "…", schema = N)]` is given. See `mfc_archive::Serialize`.
#[proc_macro_derive(Serialize, attributes(mfc))]
pub fn derive_serialize(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

#[derive(Default)]
struct ClassAttr {
    name: Option<LitStr>,
    schema: Option<LitInt>,
    versionable: bool,
    krate: Option<syn::Path>,
    /// Whether a field depends on the stored schema.
    uses_schema: bool,
}

/// What `#[mfc(...)]` on a field asks for.
enum FieldAttr {
    /// Stored and loaded in its turn.
    Plain,
    /// `#[mfc(schema)]`: not in the stream; loads as the stored schema.
    Schema,
    /// `#[mfc(since_schema = N)]`: an `Option` present from schema N on.
    Since(LitInt),
}

fn field_attr(field: &syn::Field, class: &ClassAttr) -> syn::Result<FieldAttr> {
    let mut out = FieldAttr::Plain;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("mfc")) {
        if field.ident.is_none() || class.name.is_none() {
            return Err(syn::Error::new_spanned(
                attr,
                "`schema` and `since_schema` are for named fields of a class (`#[mfc(class = ..., schema = N)]`)",
            ));
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("schema") {
                out = FieldAttr::Schema;
            } else if meta.path.is_ident("since_schema") {
                out = FieldAttr::Since(meta.value()?.parse()?);
            } else {
                return Err(meta.error("expected `schema` or `since_schema = N`"));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn parse_attrs(input: &DeriveInput) -> syn::Result<ClassAttr> {
    let mut out = ClassAttr::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("mfc")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("class") {
                out.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("schema") {
                out.schema = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("versionable") {
                out.versionable = true;
            } else if meta.path.is_ident("crate") {
                let path: LitStr = meta.value()?.parse()?;
                out.krate = Some(path.parse()?);
            } else {
                return Err(meta.error("expected `class`, `schema`, `versionable` or `crate`"));
            }
            Ok(())
        })?;
    }
    if let Some(name) = &out.name {
        let text = name.value();
        if !text.is_ascii() || text.is_empty() || text.len() >= 64 {
            return Err(syn::Error::new_spanned(
                name,
                "an MFC class name is 1 to 63 ASCII bytes",
            ));
        }
        if out.schema.is_none() {
            return Err(syn::Error::new_spanned(
                name,
                "`class` needs a `schema = N` too",
            ));
        }
    } else if out.schema.is_some() || out.versionable {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "`schema` and `versionable` need `class = \"…\"`",
        ));
    }
    Ok(out)
}

/// The path of `mfc-archive` as the crate using the derive sees it: the
/// package itself, renamed or not, or `sockarc::archive` when only the socket
/// library (`sockarc-socket`) is a dependency (read from the user's
/// `Cargo.toml`).
fn archive_crate() -> syn::Path {
    use proc_macro_crate::{crate_name, FoundCrate};
    let ident = |name: &str| syn::Ident::new(name, proc_macro2::Span::call_site());
    match crate_name("mfc-archive") {
        // In mfc-archive's own tests and doctests, which link it by name.
        Ok(FoundCrate::Itself) => syn::parse_quote!(::mfc_archive),
        Ok(FoundCrate::Name(name)) => {
            let name = ident(&name);
            syn::parse_quote!(::#name)
        }
        // The socket library: package `sockarc-socket`, whose library is
        // named `sockarc` unless the user renamed the dependency.
        Err(_) => match crate_name("sockarc-socket") {
            Ok(FoundCrate::Name(name)) if name != "sockarc_socket" => {
                let name = ident(&name);
                syn::parse_quote!(::#name::archive)
            }
            Ok(_) => syn::parse_quote!(::sockarc::archive),
            Err(_) => syn::parse_quote!(::mfc_archive),
        },
    }
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let mut attrs = parse_attrs(input)?;
    attrs.uses_schema = match &input.data {
        Data::Struct(data) => data
            .fields
            .iter()
            .any(|f| f.attrs.iter().any(|a| a.path().is_ident("mfc"))),
        _ => false,
    };
    let krate = attrs.krate.clone().unwrap_or_else(archive_crate);
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "Serialize can be derived for structs only: write Store and Load by hand for enums",
        ));
    };
    let name = &input.ident;
    let mut generics = input.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#krate::Store));
        param.bounds.push(syn::parse_quote!(#krate::Load));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let (stores, construct) = match &data.fields {
        Fields::Named(fields) => {
            let mut stores = Vec::new();
            let mut loads = Vec::new();
            for field in &fields.named {
                let name = &field.ident;
                match field_attr(field, &attrs)? {
                    FieldAttr::Plain => {
                        stores.push(quote! { ar.write(&self.#name)?; });
                        loads.push(quote! { #name: ar.read()?, });
                    }
                    FieldAttr::Schema => {
                        loads.push(quote! { #name: ::core::convert::From::from(__schema), });
                    }
                    FieldAttr::Since(since) => {
                        stores.push(quote! {
                            if let ::core::option::Option::Some(value) = &self.#name {
                                ar.write(value)?;
                            }
                        });
                        loads.push(quote! {
                            #name: if __schema >= (#since as u16) {
                                ::core::option::Option::Some(ar.read()?)
                            } else {
                                ::core::option::Option::None
                            },
                        });
                    }
                }
            }
            (quote! { #( #stores )* }, quote! { Self { #( #loads )* } })
        }
        Fields::Unnamed(fields) => {
            for field in &fields.unnamed {
                field_attr(field, &attrs)?;
            }
            let index: Vec<_> = (0..fields.unnamed.len()).map(syn::Index::from).collect();
            let reads = index.iter().map(|_| quote! { ar.read()? });
            (
                quote! { #( ar.write(&self.#index)?; )* },
                quote! { Self( #( #reads, )* ) },
            )
        }
        Fields::Unit => (quote! {}, quote! { Self }),
    };
    // The stored schema, for fields that depend on it: what the archive read
    // for this object, or the class's own when its body is loaded directly.
    let schema = if attrs.uses_schema {
        quote! {
            #[allow(clippy::cast_possible_truncation)]
            let __schema: u16 = ar
                .object_schema()
                .unwrap_or(<Self as #krate::SerialClass>::SCHEMA) as u16;
        }
    } else {
        quote! {}
    };

    let class = match (&attrs.name, &attrs.schema) {
        (Some(class), Some(schema)) => {
            let flag = if attrs.versionable {
                quote! { | #krate::VERSIONABLE_SCHEMA }
            } else {
                quote! {}
            };
            quote! {
                impl #impl_generics #krate::SerialClass for #name #ty_generics #where_clause {
                    const CLASS_NAME: &'static str = #class;
                    const SCHEMA: u32 = (#schema as u32) #flag;
                }
            }
        }
        _ => quote! {},
    };

    Ok(quote! {
        impl #impl_generics #krate::Store for #name #ty_generics #where_clause {
            fn store(&self, ar: &mut #krate::Storing<'_>) -> #krate::Result<()> {
                #stores
                Ok(())
            }
        }

        impl #impl_generics #krate::Load for #name #ty_generics #where_clause {
            // Inline, so that a collection's loop builds each element in
            // place: a record returned from a call is written field by field
            // (8-, 4- and 2-byte stores) and copied into the `Vec` with 16-byte
            // loads, which the CPU cannot forward from those stores (log
            // records decode, ANSI: 1.19 to 1.27-1.31 of postcard's time).
            #[inline]
            fn load(ar: &mut #krate::Loading<'_>) -> #krate::Result<Self> {
                #schema
                Ok(#construct)
            }
        }

        #class
    })
}

/// Derives `Store`, `Load` and conversions for an enum of object classes, one
/// tuple variant of `Arc<T>` per class (and optionally a unit variant marked
/// `#[mfc(null)]` for the null pointer). See `mfc_archive::ObjectEnum`.
#[proc_macro_derive(ObjectEnum, attributes(mfc))]
pub fn derive_object_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_enum(&input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// `T` of a field typed `Arc<T>` (any path ending in `Arc`).
fn arc_target(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Arc" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(target) => Some(target),
        _ => None,
    }
}

fn expand_enum(input: &DeriveInput) -> syn::Result<Tokens> {
    let attrs = parse_attrs(input)?;
    let krate = attrs.krate.clone().unwrap_or_else(archive_crate);
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "ObjectEnum is derived for enums: one variant per class",
        ));
    };
    let name = &input.ident;
    let mut variants = Vec::new();
    let mut classes = Vec::new();
    let mut null = None;
    for variant in &data.variants {
        let is_null = variant.attrs.iter().any(|a| {
            a.path().is_ident("mfc")
                && a.parse_nested_meta(|meta| {
                    if meta.path.is_ident("null") {
                        Ok(())
                    } else {
                        Err(meta.error("expected `null`"))
                    }
                })
                .is_ok()
        });
        match (&variant.fields, is_null) {
            (Fields::Unit, true) if null.is_none() => null = Some(&variant.ident),
            (Fields::Unnamed(fields), false) if fields.unnamed.len() == 1 => {
                let field = &fields.unnamed[0].ty;
                let target = arc_target(field).ok_or_else(|| {
                    syn::Error::new_spanned(field, "expected `Arc<T>` for a class T")
                })?;
                variants.push(&variant.ident);
                classes.push(target);
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    variant,
                    "expected `Variant(Arc<T>)`, or one unit variant marked #[mfc(null)]",
                ))
            }
        }
    }
    let expected = quote! {
        {
            let names: &[&str] = &[#( <#classes as #krate::SerialClass>::CLASS_NAME ),*];
            format!("an object of class {}", names.join(", "))
        }
    };
    let load_null = match null {
        Some(null) => quote! { ::core::result::Result::Ok(#name::#null) },
        None => quote! {
            ::core::result::Result::Err(#krate::Error::BadClass {
                offset,
                expected: #expected,
                found: "a null pointer".into(),
            })
        },
    };
    let store_null = null.map(|null| quote! { #name::#null => ar.write_object(None), });
    let into_null = null.map(|null| quote! { #name::#null => None, });
    Ok(quote! {
        impl ::core::convert::TryFrom<#krate::ObjectRef> for #name {
            type Error = #krate::ObjectRef;
            fn try_from(object: #krate::ObjectRef) -> ::core::result::Result<Self, #krate::ObjectRef> {
                #(
                    let object = match object.downcast::<#classes>() {
                        ::core::result::Result::Ok(object) => return ::core::result::Result::Ok(#name::#variants(object)),
                        ::core::result::Result::Err(object) => object,
                    };
                )*
                ::core::result::Result::Err(object)
            }
        }

        impl #name {
            /// The object pointer (`None` for the null variant).
            pub fn to_object(&self) -> ::core::option::Option<#krate::ObjectRef> {
                match self {
                    #( #name::#variants(object) => ::core::option::Option::Some(::std::sync::Arc::clone(object) as #krate::ObjectRef), )*
                    #into_null
                }
            }

            /// Registers every class of this enum with `registry`.
            pub fn register_classes(registry: &mut #krate::ClassRegistry) -> &mut #krate::ClassRegistry {
                #( registry.register::<#classes>(); )*
                registry
            }
        }

        impl #krate::Store for #name {
            fn store(&self, ar: &mut #krate::Storing<'_>) -> #krate::Result<()> {
                match self {
                    #( #name::#variants(object) => ar.write_object(::core::option::Option::Some(&(::std::sync::Arc::clone(object) as #krate::ObjectRef))), )*
                    #store_null
                }
            }
        }

        impl #krate::Load for #name {
            fn load(ar: &mut #krate::Loading<'_>) -> #krate::Result<Self> {
                let offset = ar.offset();
                match ar.read_object()? {
                    ::core::option::Option::None => #load_null,
                    ::core::option::Option::Some(object) => {
                        <Self as ::core::convert::TryFrom<#krate::ObjectRef>>::try_from(object).map_err(|other| {
                            #krate::Error::BadClass {
                                offset,
                                expected: #expected,
                                found: format!("class {}", other.class_name()),
                            }
                        })
                    }
                }
            }
            const MIN_BYTES: usize = 2;
        }
    })
}
