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
    let attrs = parse_attrs(input)?;
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
            let names: Vec<_> = fields.named.iter().map(|f| &f.ident).collect();
            (
                quote! { #( ar.write(&self.#names)?; )* },
                quote! { Self { #( #names: ar.read()?, )* } },
            )
        }
        Fields::Unnamed(fields) => {
            let index: Vec<_> = (0..fields.unnamed.len()).map(syn::Index::from).collect();
            let reads = index.iter().map(|_| quote! { ar.read()? });
            (
                quote! { #( ar.write(&self.#index)?; )* },
                quote! { Self( #( #reads, )* ) },
            )
        }
        Fields::Unit => (quote! {}, quote! { Self }),
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
            fn load(ar: &mut #krate::Loading<'_>) -> #krate::Result<Self> {
                Ok(#construct)
            }
        }

        #class
    })
}
